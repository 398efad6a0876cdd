"""The bench harness still runs end to end: a tiny world through every stage, JSON complete."""

from __future__ import annotations

import json

from expectations.runner import suite_names
from tests.bench import report, run
from tests.bench.worldgen import NETWORKS

STAGES = {
    "generate",
    "backfill",
    "gx_backfill",
    "daily",
    "gx_daily",
    "bare_scan_day",
    "bare_scan_backfill",
    "pandas_day",
    "pandas_backfill",
    "growth_history",
    "growth_persons",
    "network_influence",
    "serve",
    "dbt_overhead",
}
# the daily job's assets downstream of dbt, by key (op names may change; keys do not)
DOWNSTREAM = {
    "marts/scores",
    "marts/score_changes",
    "marts/leaderboard",
    "marts/influence_graph",
    "marts/person_topics",
    "marts/kplus_ledger",
    "marts/kplus_rejected",
    "marts/topic_leaderboards",
    "marts/perk_eligibility",
}


def test_bench_smoke(tmp_path, dbt_manifest):
    # Growth points equal to the main world reuse the daily run, so this is two dbt invocations,
    # two asset runs and two GX runs.
    results = run.main(
        [
            "--persons",
            "300",
            "--days",
            "10",
            "--growth-history",
            "10",
            "--growth-persons",
            "1",
            "--growth-base",
            "300",
            "--growth-days",
            "10",
            "--nx-nodes",
            "2000",
            "--nx-edges",
            "20000",
            "--overhead-runs",
            "1",
            "--out-dir",
            str(tmp_path),
            "--no-docs",
        ]
    )
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text())
    assert STAGES <= set(saved["stages"]), STAGES - set(saved["stages"])
    assert saved["world"]["interactions"] > 1000
    gen = saved["stages"]["generate"]
    assert gen["kplus_gives"] > 0 and gen["topic_edits"] > 0 and gen["campaigns"] > 0 and gen["excluded_accounts"] > 0
    for name in ("backfill", "daily"):
        stage = saved["stages"][name]
        assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0
        assets = stage["assets"]
        assert DOWNSTREAM <= set(assets["selected"]), DOWNSTREAM - set(assets["selected"])
        # no raw, staging, intermediate: the marts and the serving snapshot the daily run publishes last
        assert not {k for k in assets["selected"] if not k.startswith(("marts/", "serving/"))}
        stepped = {a for st in assets["steps"] for a in st["assets"]}
        assert DOWNSTREAM <= stepped, DOWNSTREAM - stepped
        assert all(st["seconds"] >= 0 for st in assets["steps"])
        assert assets["rows"]["marts/scores"] > 0 and assets["rows"]["marts/person_topics"] > 0
    assert (
        saved["stages"]["backfill"]["assets"]["rows"]["marts/scores"]
        > saved["stages"]["daily"]["assets"]["rows"]["marts/scores"]
    )
    for name, days in (("gx_backfill", 10), ("gx_daily", 1)):
        gx = saved["stages"][name]
        assert set(gx["suites"]) == set(suite_names()) and gx["days"] == days
        assert gx["startup_s"] > 0 and gx["peak_rss_mb"] > 0
        failed = {k: v["failures"] for k, v in gx["suites"].items() if not v["passed"]}
        assert not failed, failed  # the bench world is valid data: every suite passes on it
        # the scale world fills two networks' raw tables (tests/bench/worldgen.py); the others stay empty
    filled = [
        v
        for v in gx["suites"].values()
        if not v["table"].startswith("raw.") or v["table"].split(".")[1].split("_")[0] in NETWORKS
    ]
    # ... and draws no reactions that only a count shows (raw.<network>_counts stay empty)
    assert all(v["rows"] > 0 for v in filled if v["table"] != "marts.perk_eligibility" and "_counts" not in v["table"])
    summary = saved["summary"]
    assert set(summary["targets"]) == set(report.TARGETS)
    assert 0 < summary["gx_share_daily"] < 1 and 0 < summary["gx_share_backfill"] < 1
    assert summary["pandas_over_backfill_facts"] > 0 and summary["backfill_facts_vs_bare_scan"] > 0  # like for like
    serve = saved["stages"]["serve"]  # --persons 300: a 300-person snapshot, timed but not judged
    assert serve["persons"] == 300 and serve["history_rows"] == 3000 and serve["profile"]["requests"] == 500
    assert (
        0 < serve["profile"]["p50_ms"] <= serve["profile"]["p95_ms"]
        and summary["targets"]["serve_profile"]["pass"] is None
    )
    overhead = saved["stages"]["dbt_overhead"]  # one (empty) window, each way of invoking dbt
    assert set(overhead["modes"]) == set(report.DBT_OVERHEAD_MODES)
    assert all(len(m["runs"]) == 1 and m["per_invocation_s"] > 0 for m in overhead["modes"].values())
    assert overhead["modes"]["subprocess_new_vars"]["runs"][0]["parse"].startswith("full")
    assert overhead["modes"]["subprocess_same_vars"]["runs"][0]["parse"] == "partial"
    for mode in ("inprocess_manifest", "inprocess_resource"):  # each ran on its own window, not the parse's
        assert [tuple(r["window"]) for r in overhead["modes"][mode]["runs"]] == [(d, d) for d in overhead["windows"]]
    assert summary["targets"]["dbt_overhead"]["pass"] is not None
    assert results["summary"] == saved["summary"]
    markdown = report.markdown(saved, files[0])
    assert "GX checks' share of a day's run" in markdown and "`marts/scores`" in markdown
