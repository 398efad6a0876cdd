"""A snapshot of the asset graph (keys, groups, partitions, backfill policy, pools, upstream keys,
our tags, checks, jobs), so a rename or a lost dependency shows up in review, not in production.

After an intended change: `KLOUT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/orchestration/test_asset_graph.py`
and commit the new snapshot with the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestration.definitions import build_definitions

from .pipeline import small_social

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        policy = node.backfill_policy
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "materializable": node.is_materializable,
            "partitions": type(partitions).__name__ if partitions else None,
            "partitions_start": partitions.start.date().isoformat() if hasattr(partitions, "start") else None,
            "backfill_policy": policy.policy_type.value if policy else None,
            "pools": sorted(node.pools or []),
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
            # our own tags (e.g. klout/keyed_by, which `rescore` selects by); Dagster's and dbt's aside
            "tags": {k: v for k, v in sorted(node.tags.items()) if k.startswith("klout/")},
        }
    checks = sorted(
        (
            {"asset": c.key.asset_key.to_user_string(), "name": c.key.name, "blocking": c.blocking}
            for c in (graph.get(k) for k in graph.asset_check_keys)
        ),
        key=lambda c: (c["asset"], c["name"]),
    )
    jobs = sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__"))
    return {"assets": assets, "checks": checks, "jobs": jobs}


def test_the_asset_graph_matches_its_snapshot(dbt_manifest):
    current = graph_snapshot(build_definitions(small_social()))
    if os.getenv("KLOUT_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for part in ("jobs", "checks"):
        assert current[part] == expected[part], part
    assert sorted(current["assets"]) == sorted(expected["assets"]), "asset keys changed"
    for key, spec in expected["assets"].items():
        assert current["assets"][key] == spec, key
