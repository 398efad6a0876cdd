"""Fit a formula version's calibration once, against a reference population, and print it.

    python -m orchestration.calibrate --warehouse A.duckdb [--warehouse B.duckdb ...] [--version v2] [--day YYYY-MM-DD]
    python -m orchestration.calibrate --build-reference DIR --version v2 \
        [--seed 1001 --preset adversarial --persons 300,1000 --days 30 --end-date 2026-11-21 --partitions 14]

Reads the uncalibrated strength of every scored person on the reference day (by default each
warehouse's latest) and fits intercept and slope so the pooled population averages
`target_mean` with its 95th percentile at `target_p95`. Paste the output into the version's YAML:
scores stay stable because they are never re-normalised day to day.

`--build-reference` first builds one warehouse per size through the real pipeline (the daily job,
one single-run backfill of the last `--partitions` days of a sandbox world), scoring the version
being fitted. Strength is pre-calibration, so the version's current calibration does not matter.
The reference should be a world no test asserts on (tests use seed 7): otherwise the test that
checks the targets only checks the fit (`make calibrate-reference`, README "The score").
"""

from __future__ import annotations

import argparse
import os
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import yaml

from domain.score import calibrate, fit_calibration

from .formulas import load_formula


def reference_strength(conn, version: str, day: str | None) -> tuple[str, np.ndarray]:
    day = day or conn.execute("select max(day) from marts.scores where formula_version = ?", [version]).fetchall()[0][0]
    if day is None:
        raise SystemExit(f"no {version} scores in this warehouse: rescore it at {version} first")
    values = conn.execute(
        "select strength from marts.scores where formula_version = ? and day = ?", [version, day]
    ).fetchnumpy()["strength"]
    return str(day), np.asarray(values, dtype=float)


def build_reference(
    directory: Path, version: str, seed: int, preset: str, persons: int, days: int, end: date, partitions: int
) -> Path:
    """One sandbox world scored at `version` through the real daily job, the last `partitions` days
    before its last day (whose data is still arriving) in one single-run backfill."""
    from dagster import DagsterInstance

    from .definitions import build_definitions
    from .resources import SocialNetworks

    path = directory / f"reference-{preset}-seed{seed}-{persons}p.duckdb"
    path.unlink(missing_ok=True)
    last = end - timedelta(days=1)
    first = last - timedelta(days=partitions - 1)
    saved = {k: os.environ.get(k) for k in ("KLOUT_WAREHOUSE", "KLOUT_FORMULA_VERSION")}
    os.environ.update(KLOUT_WAREHOUSE=str(path), KLOUT_FORMULA_VERSION=version)
    try:
        defs = build_definitions(
            SocialNetworks(
                sandbox_seed=seed,
                sandbox_persons=persons,
                sandbox_days=days,
                sandbox_end_date=end.isoformat(),
                sandbox_preset=preset,
            )
        )
        result = defs.resolve_job_def("daily_influence").execute_in_process(
            instance=DagsterInstance.ephemeral(),
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
        )
        if not result.success:
            raise SystemExit(f"building {path} failed")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return path


def fit_pooled(cal: dict, references: dict[str, np.ndarray]) -> tuple[dict, dict[str, tuple[int, float, float]]]:
    """The fit on all references' strengths pooled, and each reference's (n, mean, p95) under it."""
    pooled = np.concatenate(list(references.values()))
    fitted = fit_calibration(pooled, cal["target_mean"], cal["target_p95"], cal["soft_cap_from"])
    rounded = {**fitted, **{k: round(v, 4) for k, v in fitted.items() if k in ("intercept", "slope")}}
    summary = {}
    for name, strength in {**references, "pooled": pooled}.items():
        scores = calibrate(strength, rounded)
        summary[name] = (len(strength), float(scores.mean()), float(np.percentile(scores, 95)))
    return rounded, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestration.calibrate")
    parser.add_argument("--warehouse", action="append", default=[], help="a reference warehouse; repeat to pool")
    parser.add_argument("--version", default=None)
    parser.add_argument("--day", default=None, help="the reference day (default: each warehouse's latest)")
    parser.add_argument("--build-reference", metavar="DIR", default=None, help="build the reference worlds into DIR")
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--preset", default="adversarial")
    parser.add_argument("--persons", default="300,1000", help="comma-separated world sizes")
    parser.add_argument("--days", type=int, default=30, help="days of sandbox history")
    parser.add_argument("--end-date", default="2026-11-21", help="the worlds' last day")
    parser.add_argument("--partitions", type=int, default=14, help="daily partitions scored before the last day")
    args = parser.parse_args(argv)
    formula = load_formula(args.version)
    warehouses = list(args.warehouse)
    if args.build_reference:
        directory = Path(args.build_reference)
        directory.mkdir(parents=True, exist_ok=True)
        for persons in (int(p) for p in args.persons.split(",")):
            end = date.fromisoformat(args.end_date)
            path = build_reference(
                directory, formula.version, args.seed, args.preset, persons, args.days, end, args.partitions
            )
            warehouses.append(str(path))
    if not warehouses:
        parser.error("give --warehouse (repeatable) or --build-reference DIR")
    references = {}
    for path in warehouses:
        with duckdb.connect(path, read_only=True) as conn:
            day, strength = reference_strength(conn, formula.version, args.day)
        references[f"{Path(path).name} on {day}"] = strength
    cal = formula.section("calibration")
    fitted, summary = fit_pooled(cal, references)
    for name, (n, mean, p95) in summary.items():
        print(f"# reference {name}: {n} persons; mean {mean:.1f}, p95 {p95:.1f}")
    print(yaml.safe_dump({"calibration": {**cal, **fitted}}, sort_keys=False))


if __name__ == "__main__":
    main()
