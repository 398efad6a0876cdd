"""Fit a formula version's calibration once, against a reference population, and print it.

    python -m orchestration.calibrate --warehouse data/warehouse.duckdb [--version v1] [--day YYYY-MM-DD]

Reads the uncalibrated strength of every scored person on the reference day (by default the
latest) and fits intercept and slope so the population averages `target_mean` with its 95th
percentile at `target_p95`. Paste the output into the version's YAML: scores stay stable because
they are never re-normalised day to day.
"""

from __future__ import annotations

import argparse

import duckdb
import numpy as np
import yaml

from domain.score import calibrate, fit_calibration

from .formulas import load_formula


def reference_strength(conn, version: str, day: str | None) -> tuple[str, np.ndarray]:
    day = day or conn.execute("select max(day) from marts.scores where formula_version = ?", [version]).fetchall()[0][0]
    values = conn.execute(
        "select strength from marts.scores where formula_version = ? and day = ?", [version, day]
    ).fetchnumpy()["strength"]
    return str(day), np.asarray(values, dtype=float)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestration.calibrate")
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--version", default=None)
    parser.add_argument("--day", default=None)
    args = parser.parse_args(argv)
    formula = load_formula(args.version)
    cal = formula.section("calibration")
    with duckdb.connect(args.warehouse, read_only=True) as conn:
        day, strength = reference_strength(conn, formula.version, args.day)
    fitted = fit_calibration(strength, cal["target_mean"], cal["target_p95"], cal["soft_cap_from"])
    scores = calibrate(strength, fitted)
    print(
        f"# reference: {len(strength)} persons on {day}; mean {scores.mean():.1f}, p95 {np.percentile(scores, 95):.1f}"
    )
    print(yaml.safe_dump({"calibration": {**cal, **{k: round(v, 4) for k, v in fitted.items()}}}, sort_keys=False))


if __name__ == "__main__":
    main()
