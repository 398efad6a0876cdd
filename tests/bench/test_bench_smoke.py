"""The bench harness still runs end to end: a tiny world through every stage, JSON complete."""
from __future__ import annotations

import json
import time

from tests.bench import run

STAGES = {"generate", "backfill", "daily", "bare_scan_day", "bare_scan_backfill", "pandas_day", "pandas_backfill",
          "growth_history", "growth_persons", "network_influence"}


def test_bench_smoke(tmp_path):
    t0 = time.perf_counter()
    # Growth points equal to the main world reuse the daily run, so this is two dbt invocations.
    results = run.main(["--persons", "300", "--days", "10", "--growth-history", "10", "--growth-persons", "1",
                        "--growth-base", "300", "--growth-days", "10", "--nx-nodes", "2000", "--nx-edges", "20000",
                        "--out-dir", str(tmp_path), "--no-docs"])
    elapsed = time.perf_counter() - t0
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text())
    assert STAGES <= set(saved["stages"]), STAGES - set(saved["stages"])
    assert saved["world"]["interactions"] > 1000
    for name in ("backfill", "daily"):
        stage = saved["stages"][name]
        assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0
        assert stage["score"]["rows"] > 0
    assert saved["stages"]["backfill"]["score"]["rows"] > saved["stages"]["daily"]["score"]["rows"]
    assert set(saved["summary"]["targets"]) == {"throughput", "flat_history", "persons_linear", "vs_bare_scan",
                                                "vs_pandas", "backfill_vs_daily", "peak_rss"}
    assert results["summary"] == saved["summary"]
    assert elapsed < 120, f"smoke bench took {elapsed:.0f}s"  # < 40s on an idle 2-core machine
