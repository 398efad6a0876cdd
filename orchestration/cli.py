"""`python -m orchestration.cli run`: what `make run` does, through the same Dagster instance the UI uses."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import duckdb

from .warehouse import warehouse_path


def last_partitions(days: int, today: date | None = None) -> tuple[date, date]:
    """The last `days` complete daily partitions: yesterday and the days before it."""
    today = today or datetime.now(timezone.utc).date()
    return today - timedelta(days=days), today - timedelta(days=1)


# Tables keyed by formula version, and the ops that write them (run config goes to ops):
# what `rescore` backfills for a new version. tests/orchestration checks both against the definitions.
VERSIONED_TABLES = ("marts.scores", "marts.influence_graph", "marts.score_changes", "marts.leaderboard",
                    "marts.topic_leaderboards", "marts.perk_eligibility")
VERSIONED_OPS = ("marts__scores_and_influence_graph", "marts__score_changes", "marts__leaderboard",
                 "marts__topic_leaderboards", "marts__perk_eligibility")


def materialize(first: date, last: date, select: str = "not group:formula_review", op_config: dict | None = None) -> None:
    """One single-run backfill of `select` over [first, last], recorded in $DAGSTER_HOME.

    By default the whole graph but the version review, which needs a candidate to compare.
    """
    if not os.getenv("DAGSTER_HOME"):
        sys.exit("DAGSTER_HOME is not set: run through `make` (it keeps run history in ./.dagster_home)")
    # one process for the whole run: no per-step interpreter start-up on a 2-core machine
    run_config = {"execution": {"config": {"in_process": {}}}, **({"ops": op_config} if op_config else {})}
    cmd = [
        sys.executable, "-m", "dagster", "asset", "materialize",
        "-m", "orchestration.definitions",
        "--select", select,
        "--partition-range", f"{first.isoformat()}...{last.isoformat()}",
        "--config-json", json.dumps(run_config),
    ]
    subprocess.run(cmd, check=True)


def rescore(version: str, first: date, last: date) -> None:
    """Backfill a formula version beside the active one: only rows keyed by `version` change."""
    select = " or ".join(f'key:"{table.replace(".", "/")}"' for table in VERSIONED_TABLES)
    materialize(first, last, select, {op: {"config": {"formula_version": version}} for op in VERSIONED_OPS})


def compare(candidate: str, first: date, last: date, baseline: str = "") -> None:
    materialize(first, last, "group:formula_review",
                {"formula_comparison": {"config": {"candidate": candidate, "baseline": baseline}}})


def leaderboard(limit: int = 10) -> str:
    with duckdb.connect(warehouse_path(), read_only=True) as conn:
        rows = conn.execute(
            """
            select l.rank, l.person_id, coalesce(p.display_name, l.person_id) as name, l.score, l.day, l.formula_version
            from marts.leaderboard as l
            left join marts.dim_persons as p using (person_id)
            where l.day = (select max(day) from marts.leaderboard)
            order by l.rank
            limit ?
            """,
            [limit],
        ).fetchall()
    if not rows:
        return "leaderboard is empty"
    day, version = rows[0][4], rows[0][5]
    lines = [f"Top {len(rows)} influencers on {day} (formula {version})", f"{'#':>3}  {'score':>6}  person"]
    lines += [f"{rank:>3}  {score:6.1f}  {name} ({person_id})" for rank, person_id, name, score, _, _ in rows]
    return "\n".join(lines)


def comparison_report(candidate: str) -> str:
    with duckdb.connect(warehouse_path(), read_only=True) as conn:
        summary = conn.execute(
            "select day, baseline, candidate, persons, round(spearman, 3) as spearman, round(baseline_mean, 1) as baseline_mean,"
            " round(candidate_mean, 1) as candidate_mean, round(baseline_p95, 1) as baseline_p95, round(candidate_p95, 1) as candidate_p95"
            " from marts.formula_comparison where candidate = ? order by day", [candidate]).df()
        movers = conn.execute(
            "select rank, person_id, score_baseline, score_candidate, round(delta, 2) as delta, reasons from marts.formula_movers"
            " where candidate = ? and day = (select max(day) from marts.formula_movers where candidate = ?) order by rank",
            [candidate, candidate]).df()
    return f"{summary.to_markdown(index=False)}\n\nBiggest movers on the latest day:\n{movers.to_markdown(index=False)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestration.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialise the last N daily partitions and print the leaderboard")
    run.add_argument("--days", type=int, default=14)
    sub.add_parser("leaderboard", help="print the latest top-10 leaderboard")
    for name, text in (("rescore", "backfill a formula version beside the active one"),
                       ("compare", "compare a candidate formula version with the active one")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("version", help="the formula version, e.g. v2")
        cmd.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
        cmd.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        first, last = last_partitions(args.days)
        print(f"Materialising {args.days} daily partitions {first}...{last} into {warehouse_path()}", flush=True)
        materialize(first, last)
    elif args.command == "rescore":
        rescore(args.version, args.first, args.last)
        return
    elif args.command == "compare":
        compare(args.version, args.first, args.last)
        print(comparison_report(args.version))
        return
    print(leaderboard())
    print(f"\nWarehouse: {warehouse_path()}\nRun history: {os.getenv('DAGSTER_HOME')} (see it with `make ui`)")


if __name__ == "__main__":
    main()
