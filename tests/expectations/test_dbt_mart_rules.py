"""The rules on the published facts live in dbt (dbt_project/models/marts/*.yml), not in GX suites.

On the clean warehouse every dbt data test of fct_engagement_daily and fct_features_90d passes; with
one faulty row per rule added, exactly those rules fail, each on its one row, at its severity
(warn stays warn, as in the GX suites these rules came from).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import DAY

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = ("fct_engagement_daily", "fct_features_90d")

# one row per rule, each wrong in one way only (a good daily row: ('p', 'mastodon', DAY, 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10))
FAULTY_ROWS = f"""
insert into intermediate.int_identity values
  ('mastodon', 'mastodon:f1', 'f1', 'f_dup', true), ('mastodon', 'mastodon:f2', 'f2', 'f_net', true),
  ('mastodon', 'mastodon:f3', 'f3', 'f_posts', true), ('mastodon', 'mastodon:f4', 'f4', 'f_uniq', true),
  ('mastodon', 'mastodon:f5', 'f5', 'f_sum', true), ('mastodon', 'mastodon:f6', 'f6', 'f_fol', true),
  ('mastodon', 'mastodon:f7', 'f7', 'f_nonet', true), ('mastodon', 'mastodon:f8', 'f8', 'f_anon', true);
insert into marts.fct_engagement_daily values
  ('f_dup', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10),
  ('f_dup', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10),
  ('f_ghost', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10),
  ('f_net', 'twitter', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10),
  ('f_nonet', null, '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10),
  ('f_posts', 'mastodon', '{DAY}', -1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 10),
  ('f_uniq', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 3, 1.5, 0, 0, 10),
  ('f_sum', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 3, 1, 1.5, 0, 0, 10),
  ('f_fol', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, -1),
  ('f_anon', 'mastodon', '{DAY}', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, -3, 0, 10);
insert into marts.fct_features_90d values
  (null, 'mastodon', '{DAY}', 1, 1.0, 1.9, 1.0, 1.9, 0.5, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 0),
  ('f_nonet', null, '{DAY}', 1, 1.0, 1.9, 1.0, 1.9, 0.5, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 0),
  ('f_share', 'mastodon', '{DAY}', 1, 1.0, 1.9, 1.0, 1.9, 1.2, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 0),
  ('f_active', 'mastodon', '{DAY}', 1, 1.0, 1.9, 1.0, 1.9, 0.5, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 90),
  ('f_react', 'mastodon', '{DAY}', 1, 1.0, 2.5, 1.0, 1.9, 0.5, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 0),
  ('f_posts', 'mastodon', '{DAY}', 1, 1.0, 1.9, 1.5, 1.9, 0.5, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 0),
  ('f_select', 'mastodon', '{DAY}', 1, 1.0, 1.9, 1.0, 1.9, 0.5, 1.95, 0.0, 0.0, 1.0, 2, 1, 137, 0);
"""

# (model, test, column or expression) -> dbt status of that test on FAULTY_ROWS; every other test passes
EXPECTED = {
    ("fct_engagement_daily", "unique_combination_of_columns", None): "fail",
    ("fct_engagement_daily", "relationships", "person_id"): "fail",
    ("fct_engagement_daily", "accepted_values", "network"): "fail",
    ("fct_engagement_daily", "not_null", "network"): "fail",
    ("fct_engagement_daily", "accepted_range", "posts_made"): "fail",
    ("fct_engagement_daily", "accepted_range", "anonymous_reactions"): "fail",
    ("fct_engagement_daily", "expression_is_true", "unique_reactors <= reactions_received"): "fail",
    (
        "fct_engagement_daily",
        "expression_is_true",
        "reactions_received = likes + replies + reshares + quotes + mentions",
    ): "fail",
    ("fct_engagement_daily", "accepted_range", "followers"): "warn",
    ("fct_features_90d", "not_null", "person_id"): "fail",
    ("fct_features_90d", "not_null", "network"): "fail",
    ("fct_features_90d", "accepted_range", "unique_reactor_share"): "fail",
    ("fct_features_90d", "accepted_range", "days_since_active"): "warn",
    ("fct_features_90d", "expression_is_true", "decayed_reactions <= reactions_90d + 1e-9"): "warn",
    ("fct_features_90d", "expression_is_true", "decayed_posts <= posts_90d + 1e-9"): "warn",
    ("fct_features_90d", "expression_is_true", "selectivity_weighted_engagement <= decayed_reactions + 1e-9"): "warn",
}


def dbt_test(warehouse: str, tmp_path: Path) -> dict[tuple, dict]:
    """`dbt test` of the two marts' data tests on the partition day: (model, test, column or expression) -> result."""
    target = tmp_path / "target"
    dbt = Path(sys.executable).parent / "dbt"
    select = [f"{m},test_type:data" for m in MODELS]
    subprocess.run(
        [str(dbt), "test", "--quiet", "--profiles-dir", ".", "--project-dir", ".", "--target-path", str(target)]
        + ["--log-path", str(tmp_path / "logs"), "--vars", json.dumps({"min_date": str(DAY), "max_date": str(DAY)})]
        + ["--select", *select],
        cwd=DBT_DIR,
        env={**os.environ, "KLOUT_WAREHOUSE": warehouse, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
        capture_output=True,
        text=True,
    )
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    results = {}
    for result in json.loads((target / "run_results.json").read_text())["results"]:
        node = nodes[result["unique_id"]]
        meta = node["test_metadata"]
        model = nodes[node["attached_node"]]["name"]
        key = (model, meta["name"], meta["kwargs"].get("expression") or node.get("column_name"))
        assert key not in results, key
        results[key] = result
    return results


def test_mart_rules_pass_on_clean_data(warehouse, tmp_path):
    results = dbt_test(warehouse, tmp_path)
    assert len(results) >= len(EXPECTED)
    assert {key: r["status"] for key, r in results.items() if r["status"] != "pass"} == {}


def test_mart_rules_fail_on_faults_at_their_severity(warehouse, tmp_path):
    warehouse.run(FAULTY_ROWS)
    results = dbt_test(warehouse, tmp_path)
    assert {key: r["status"] for key, r in results.items() if r["status"] != "pass"} == EXPECTED
    assert all(results[key]["failures"] == 1 for key in EXPECTED), {k: results[k]["failures"] for k in EXPECTED}
