"""`python -m orchestration.calibrate` pools several reference warehouses into one fit."""

from __future__ import annotations

import duckdb
import numpy as np
import yaml

from domain.score import calibrate
from orchestration.calibrate import main


def warehouse(path, version: str, days: dict[str, np.ndarray]) -> str:
    """A warehouse holding only marts.scores strengths, as the pipeline writes them."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.scores (person_id varchar, day date, formula_version varchar, strength double)"
        )
        for day, strength in days.items():
            rows = [(f"p{i}", day, version, float(s)) for i, s in enumerate(strength)]
            conn.executemany("insert into marts.scores values (?, ?, ?, ?)", rows)
    return str(path)


def test_pools_the_latest_day_of_each_warehouse(tmp_path, capsys):
    rng = np.random.default_rng(0)
    small = rng.lognormal(0.5, 1.0, 300)
    large = rng.lognormal(3.0, 1.5, 1000)
    a = warehouse(tmp_path / "a.duckdb", "v2", {"2026-11-19": small * 50, "2026-11-20": small})
    b = warehouse(tmp_path / "b.duckdb", "v2", {"2026-11-20": large})
    main(["--version", "v2", "--warehouse", a, "--warehouse", b])
    out = capsys.readouterr().out
    assert "a.duckdb on 2026-11-20: 300 persons" in out and "b.duckdb on 2026-11-20: 1000 persons" in out
    fitted = yaml.safe_load(out)["calibration"]
    pooled = calibrate(np.concatenate([small, large]), fitted)
    target = fitted["target_mean"]
    assert abs(pooled.mean() - target) < 0.5 and abs(np.percentile(pooled, 95) - fitted["target_p95"]) < 0.5
    # neither world alone hits the targets: the fit is the pool's, not either warehouse's
    assert calibrate(small, fitted).mean() < target - 3 and calibrate(large, fitted).mean() > target + 3
