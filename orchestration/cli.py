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


def materialize(first: date, last: date) -> None:
    """One single-run backfill of the whole graph over [first, last], recorded in $DAGSTER_HOME."""
    if not os.getenv("DAGSTER_HOME"):
        sys.exit("DAGSTER_HOME is not set: run through `make run` (it keeps run history in ./.dagster_home)")
    cmd = [
        sys.executable, "-m", "dagster", "asset", "materialize",
        "-m", "orchestration.definitions",
        "--select", "*",
        "--partition-range", f"{first.isoformat()}...{last.isoformat()}",
        # one process for the whole run: no per-step interpreter start-up on a 2-core machine
        "--config-json", json.dumps({"execution": {"config": {"in_process": {}}}}),
    ]
    subprocess.run(cmd, check=True)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestration.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialise the last N daily partitions and print the leaderboard")
    run.add_argument("--days", type=int, default=14)
    sub.add_parser("leaderboard", help="print the latest top-10 leaderboard")
    args = parser.parse_args(argv)
    if args.command == "run":
        first, last = last_partitions(args.days)
        print(f"Materialising {args.days} daily partitions {first}...{last} into {warehouse_path()}", flush=True)
        materialize(first, last)
    print(leaderboard())
    print(f"\nWarehouse: {warehouse_path()}\nRun history: {os.getenv('DAGSTER_HOME')} (see it with `make ui`)")


if __name__ == "__main__":
    main()
