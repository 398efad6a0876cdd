"""`python -m orchestration.cli run`: what `make run` does, through the same Dagster instance the UI uses."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta

import duckdb
from dagster import AssetSelection, DagsterError, DagsterInstance

from web.snapshot import read_pointer, serve_url, serving_dir

from .console import format_event
from .formulas import VERSIONED_TAG
from .keys import REVIEW_GROUP
from .runs import launch
from .warehouse import warehouse_path


def last_partitions(days: int, today: date | None = None) -> tuple[date, date]:
    """The last `days` complete daily partitions: yesterday and the days before it."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=days), today - timedelta(days=1)


def run_and_report(selection: AssetSelection, first: date, last: date, op_config: dict | None = None) -> None:
    """Launch a single-run backfill, print its lines and summary; exit 1 if it failed."""
    try:
        outcome = launch(selection, first, last, op_config)
    except DagsterError as exc:  # refused before it started: bad config or selection
        sys.exit(f"The run could not start: {type(exc).__name__}: {exc}")
    print(outcome.summary, flush=True)
    if not outcome.success:
        sys.exit(1)


def versioned_selection() -> AssetSelection:
    """The tables keyed by formula version: what `rescore` backfills for a new version."""
    ((tag, value),) = VERSIONED_TAG.items()
    return AssetSelection.tag(tag, value)


def versioned_ops() -> list[str]:
    """The steps writing the versioned tables (run config goes to ops, not assets)."""
    from .definitions import defs

    graph = defs.resolve_asset_graph()
    return sorted({graph.get(key).assets_def.node_def.name for key in versioned_selection().resolve(graph)})


def rescore(version: str, first: date, last: date) -> None:
    """Backfill a formula version beside the active one: only rows keyed by `version` change."""
    run_and_report(
        versioned_selection(), first, last, {op: {"config": {"formula_version": version}} for op in versioned_ops()}
    )


def compare(candidate: str, first: date, last: date, baseline: str = "") -> None:
    run_and_report(
        AssetSelection.groups(REVIEW_GROUP),
        first,
        last,
        {"formula_comparison": {"config": {"candidate": candidate, "baseline": baseline}}},
    )


def subject_request(command: str, person_id: str) -> None:
    """Subject access or erasure from the command line, audited like the Dagster jobs' requests."""
    import getpass

    from .forgetting import WarehousePrivacy
    from .serving_tables import republish_if_published
    from .warehouse import exports_dir

    salt = pseudonym_salt()
    requested_by = f"cli:{getpass.getuser()}"
    with duckdb.connect(warehouse_path()) as conn:
        privacy = WarehousePrivacy(conn, salt)
        if command == "export-person":
            request_id, path, counts = privacy.export_request(person_id, requested_by, exports_dir())
            print(f"{request_id}: {sum(counts.values())} rows from {len(counts)} tables written to {path}")
        else:
            request_id, counts = privacy.erase_request(person_id, requested_by, datetime.now(UTC).date())
            print(f"{request_id}: {sum(counts.values())} rows forgotten in {len(counts)} tables")
            for table, rows in sorted(counts.items()):
                print(f"  {table}: {rows}")
            published = republish_if_published(conn, salt)
            if published:
                print(f"Site snapshot republished without them: {published.version} (as of {published.as_of})")


def pseudonym_salt() -> str:
    """The salt the pipeline's resource gets: the variable, else the resource's default."""
    from .resources import SocialNetworks

    return os.getenv("KLOUT_PSEUDONYM_SALT") or SocialNetworks.model_fields["pseudonym_salt"].default


def import_files(paths: list[str], network: str | None) -> None:
    """Land interaction logs into the warehouse, one transaction per file, printing each file's
    rows per partition. The CLI writes the warehouse itself: a run holding it makes this fail."""
    from .imports import ImportRefused, import_file

    path = warehouse_path()
    try:
        conn = duckdb.connect(path)
    except duckdb.IOException as exc:
        sys.exit(
            f"The warehouse {path} is in use by another process (a run, `make ui` materialising, or another"
            f" import): DuckDB allows one writer. Import again when it is done.\n({exc})"
        )
    days = set()
    with conn:
        for file in paths:
            try:
                report = import_file(conn, file, network, salt=pseudonym_salt())
            except ImportRefused as exc:
                sys.exit(f"import refused: {exc}")
            print("\n".join(report.lines()), flush=True)
            days |= set(report.landed)
    if days:
        print(
            f"Landed in {len(days)} partitions {min(days)}...{max(days)}: materialise them (make run for the last"
            " days, a backfill in `make ui` for older ones) so dbt and the scores see the rows."
        )


def print_logs(run_id: str | None) -> None:
    """The full event log of a run (default: the latest), tracebacks included."""
    instance = DagsterInstance.get()
    if not run_id:
        runs = instance.get_runs(limit=1)
        if not runs:
            sys.exit(f"no runs in {os.getenv('DAGSTER_HOME')}")
        run_id = runs[0].run_id
    if instance.get_run_by_id(run_id) is None:
        sys.exit(f"no run {run_id!r} in {os.getenv('DAGSTER_HOME')}")
    for entry in instance.all_logs(run_id):
        print(format_event(entry))


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
            "select day, baseline, candidate, persons, round(spearman, 3) as spearman,"
            " round(baseline_mean, 1) as baseline_mean, round(candidate_mean, 1) as candidate_mean,"
            " round(baseline_p95, 1) as baseline_p95, round(candidate_p95, 1) as candidate_p95"
            " from marts.formula_comparison where candidate = ? order by day",
            [candidate],
        ).df()
        movers = conn.execute(
            "select rank, person_id, score_baseline, score_candidate, round(delta, 2) as delta, reasons"
            " from marts.formula_movers"
            " where candidate = ? and day = (select max(day) from marts.formula_movers where candidate = ?)"
            " order by rank",
            [candidate, candidate],
        ).df()
    return f"{summary.to_markdown(index=False)}\n\nBiggest movers on the latest day:\n{movers.to_markdown(index=False)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestration.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialise the last N daily partitions and print the leaderboard")
    run.add_argument("--days", type=int, default=14)
    sub.add_parser("leaderboard", help="print the latest top-10 leaderboard")
    for name, text in (
        ("export-person", "write everything the warehouse holds about one person as JSON"),
        ("erase-person", "erase one person now and never measure them again"),
    ):
        request = sub.add_parser(name, help=text)
        request.add_argument("person_id", help="a person id (p000123) or an unregistered account (mastodon:123)")
    imports = sub.add_parser("import", help="land interaction logs (CSV, TSV, Parquet) into the warehouse")
    imports.add_argument("files", nargs="+", help="the files (docs/contracts.md, Bulk imports)")
    imports.add_argument("--network", default=None, help="network name of rows whose file has none (default: imported)")
    logs = sub.add_parser("logs", help="print the full event log of a run (default: the latest)")
    logs.add_argument("run_id", nargs="?", default="")
    for name, text in (
        ("rescore", "backfill a formula version beside the active one"),
        ("compare", "compare a candidate formula version with the active one"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("version", help="the formula version, e.g. v2")
        cmd.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
        cmd.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        first, last = last_partitions(args.days)
        print(f"Materialising {args.days} daily partitions {first}...{last} into {warehouse_path()}", flush=True)
        from .definitions import daily_selection

        run_and_report(daily_selection, first, last)
    elif args.command == "rescore":
        rescore(args.version, args.first, args.last)
        return
    elif args.command in ("export-person", "erase-person"):
        subject_request(args.command, args.person_id)
        return
    elif args.command == "import":
        import_files(args.files, args.network)
        return
    elif args.command == "logs":
        print_logs(args.run_id)
        return
    elif args.command == "compare":
        compare(args.version, args.first, args.last)
        print(comparison_report(args.version))
        return
    print(leaderboard())
    print(f"\nWarehouse: {warehouse_path()}\nRun history: {os.getenv('DAGSTER_HOME')} (see it with `make ui`)")
    print(site_line())


def site_line() -> str:
    """Where `make serve` will show what this run published."""
    pointer = read_pointer(serving_dir())
    published = f"snapshot {pointer['version']}, as of {pointer['as_of']}" if pointer else "nothing published yet"
    return f"Site and API: {serve_url()} (start it with `make serve`; {published})"


if __name__ == "__main__":
    main()
