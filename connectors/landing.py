"""Raw landing into DuckDB (schema `raw`, tables of docs/contracts.md).

A partition is replaced in one transaction: delete the partition's rows of the accounts fetched
successfully, bulk-insert the new rows (Arrow tables, no per-row inserts). Accounts that failed
keep their previous rows; any error rolls the whole partition back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from connectors.ingest import AccountFailure, DayBatch, NetworkClient, ReactionKey, collect_day, parse_time, to_json
from connectors.platform import NETWORK as PLATFORM
from connectors.platform import PlatformClient
from connectors.privacy import PrivacyGate

_STAMP = [("partition_day", "DATE"), ("fetched_at", "TIMESTAMPTZ"), ("payload", "JSON")]
NETWORK_TABLES: dict[str, list[tuple[str, str]]] = {
    "accounts": [("network", "VARCHAR"), ("account_id", "VARCHAR"), ("handle", "VARCHAR"), *_STAMP],
    "posts": [
        ("network", "VARCHAR"),
        ("post_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("created_at", "TIMESTAMPTZ"),
        *_STAMP,
    ],
    # source_account_id: the tracked account whose fetch produced the row (the target, except for
    # mentions); re-landing an account replaces exactly its rows.
    "reactions": [
        ("network", "VARCHAR"),
        ("post_id", "VARCHAR"),
        ("target_account_id", "VARCHAR"),
        ("reactor_account_id", "VARCHAR"),
        ("reaction_type", "VARCHAR"),
        ("reacted_at", "TIMESTAMPTZ"),
        ("source_account_id", "VARCHAR"),
        *_STAMP,
    ],
    # a post's reactions that the API only counts (connectors/registry.py: anonymous_counts), as
    # observed by the partition's fetch, for every post of the lookback window
    "counts": [
        ("network", "VARCHAR"),
        ("post_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("reaction_type", "VARCHAR"),
        ("total", "BIGINT"),
        *_STAMP,
    ],
}
# which column ties a row to the account whose fetch produced it
_OWNER = {"accounts": "account_id", "posts": "account_id", "reactions": "source_account_id", "counts": "account_id"}
PLATFORM_TABLES: dict[str, list[tuple[str, str]]] = {
    "profiles": [
        ("person_id", "VARCHAR"),
        ("display_name", "VARCHAR"),
        ("birth_date", "DATE"),
        ("location", "VARCHAR"),
        ("opted_out", "BOOLEAN"),
        ("is_private", "BOOLEAN"),
        ("private_consent", "BOOLEAN"),
        *_STAMP,
    ],
    "links": [("person_id", "VARCHAR"), ("network", "VARCHAR"), ("handle", "VARCHAR"), *_STAMP],
    "kplus": [
        ("give_id", "VARCHAR"),
        ("giver_person_id", "VARCHAR"),
        ("recipient_person_id", "VARCHAR"),
        ("topic_slug", "VARCHAR"),
        ("given_at", "TIMESTAMPTZ"),
        *_STAMP,
    ],
    "campaigns": [("campaign_id", "VARCHAR"), *_STAMP],
    "topic_edits": [
        ("edit_id", "VARCHAR"),
        ("person_id", "VARCHAR"),
        ("editor_person_id", "VARCHAR"),
        ("topic_slug", "VARCHAR"),
        ("action", "VARCHAR"),
        ("edited_at", "TIMESTAMPTZ"),
        *_STAMP,
    ],
}
_ARROW = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
    "BIGINT": pa.int64(),
}


@dataclass
class LandingReport:
    network: str
    day: date
    rows: dict[str, int] = field(default_factory=dict)  # table kind (`posts`...) -> rows inserted
    failures: list[AccountFailure] = field(default_factory=list)


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, networks: Iterable[str]) -> None:
    """Create schema `raw`, each network's tables and the platform tables (idempotent)."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    wanted = [(_table(n, kind), cols) for n in networks for kind, cols in NETWORK_TABLES.items()]
    wanted += [(_table(PLATFORM, kind), cols) for kind, cols in PLATFORM_TABLES.items()]
    for table, columns in wanted:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{c} {t}' for c, t in columns)})")


def seen_reaction_keys(
    conn: duckdb.DuckDBPyConnection, network: str, before_day: date, since_day: date
) -> set[ReactionKey]:
    """Keys of reactions landed in partitions [since_day, before_day)."""
    rows = conn.execute(
        f"SELECT DISTINCT network, post_id, reactor_account_id, reaction_type FROM {_table(network, 'reactions')}"
        " WHERE partition_day >= ? AND partition_day < ?",
        [since_day, before_day],
    ).fetchall()
    return set(rows)


def lookback_reaction_keys(
    conn: duckdb.DuckDBPyConnection, network: str, day: date, lookback_days: int
) -> set[ReactionKey]:
    """Keys landed in the lookback window before `day`: what `collect_day` must not land again."""
    ensure_raw_tables(conn, [network])
    return seen_reaction_keys(conn, network, before_day=day, since_day=day - timedelta(days=lookback_days))


def land_day(conn: duckdb.DuckDBPyConnection, batch: DayBatch) -> LandingReport:
    """Replace partition `batch.day` for the accounts in the batch, atomically."""
    owners = [row["account_id"] for row in batch.accounts]
    rows = {"accounts": batch.accounts, "posts": batch.posts, "reactions": batch.reactions, "counts": batch.counts}
    report = LandingReport(batch.network, batch.day, failures=list(batch.failures))
    with _transaction(conn):
        conn.register("_landing_owners", pa.table({"account_id": pa.array(owners, pa.string())}))
        try:
            for kind, columns in NETWORK_TABLES.items():
                table = _table(batch.network, kind)
                conn.execute(
                    f"DELETE FROM {table} WHERE partition_day = ? AND {_OWNER[kind]} IN "
                    "(SELECT account_id FROM _landing_owners)",
                    [batch.day],
                )
                report.rows[kind] = _insert(conn, table, columns, rows[kind])
        finally:
            conn.unregister("_landing_owners")
    return report


def land_platform(conn: duckdb.DuckDBPyConnection, platform_client: PlatformClient, day: date) -> LandingReport:
    """Fetch everything first, then replace the platform partition `day` in one transaction, so
    a failed fetch leaves the previous rows untouched (the ConnectorError propagates)."""
    ensure_raw_tables(conn, [])
    stamp = {"partition_day": day, "fetched_at": datetime.now(UTC)}
    profiles = list(platform_client.profiles())
    rows = {
        "profiles": [
            {
                "person_id": _text(p["person_id"]),
                "display_name": p.get("display_name"),
                "birth_date": _day(p.get("birth_date")),
                "location": p.get("location"),
                "opted_out": p.get("opted_out"),
                "is_private": p.get("is_private"),
                "private_consent": p.get("private_consent"),
                **stamp,
                "payload": to_json(p),
            }
            for p in profiles
        ],
        "links": [
            {
                "person_id": _text(p["person_id"]),
                "network": link["network"],
                "handle": link["handle"],
                **stamp,
                "payload": to_json(link),
            }
            for p in profiles
            for link in p.get("linked_accounts") or ()
        ],
        "kplus": [
            {
                "give_id": _text(g["give_id"]),
                "giver_person_id": _text(g["giver_person_id"]),
                "recipient_person_id": _text(g["recipient_person_id"]),
                "topic_slug": g.get("topic_slug"),
                "given_at": _parse(g.get("given_at")),
                **stamp,
                "payload": to_json(g),
            }
            for g in platform_client.kplus(day)
        ],
        "campaigns": [
            {"campaign_id": _text(c["campaign_id"]), **stamp, "payload": to_json(c)}
            for c in platform_client.campaigns()
        ],
        "topic_edits": [
            {
                "edit_id": _text(e["edit_id"]),
                "person_id": _text(e["person_id"]),
                "editor_person_id": _text(e["editor_person_id"]),
                "topic_slug": e.get("topic_slug"),
                "action": e.get("action"),
                "edited_at": _parse(e.get("edited_at")),
                **stamp,
                "payload": to_json(e),
            }
            for e in platform_client.topic_edits(day)
        ],
    }
    report = LandingReport(PLATFORM, day)
    with _transaction(conn):
        for kind, columns in PLATFORM_TABLES.items():
            table = _table(PLATFORM, kind)
            conn.execute(f"DELETE FROM {table} WHERE partition_day = ?", [day])
            report.rows[kind] = _insert(conn, table, columns, rows[kind])
    return report


def ingest_day(
    conn: duckdb.DuckDBPyConnection,
    network_client: NetworkClient,
    handles: Iterable[str],
    day: date,
    lookback_days: int = 7,
    privacy: PrivacyGate | None = None,
    workers: int = 1,
) -> LandingReport:
    """Seen keys of the lookback window + collect + land: partition `day` of one network. The three
    steps are separate functions, so a caller landing networks at once can hold its DuckDB lock
    for the first and last only."""
    seen = lookback_reaction_keys(conn, network_client.network, day, lookback_days)
    batch = collect_day(
        network_client,
        handles,
        day,
        lookback_days=lookback_days,
        seen_reaction_keys=seen,
        privacy=privacy,
        workers=workers,
    )
    return land_day(conn, batch)


class _transaction:
    """BEGIN ... COMMIT, or ROLLBACK on any error."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.begin()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.commit()
        else:
            self.conn.rollback()


def _insert(
    conn: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]
) -> int:
    if not rows:
        return 0
    schema = pa.schema([(name, _ARROW[kind]) for name, kind in columns])
    frame = pa.Table.from_pylist(rows, schema=schema)
    names = ", ".join(name for name, _ in columns)
    conn.register("_landing_rows", frame)
    try:
        conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _landing_rows")
    finally:
        conn.unregister("_landing_rows")
    return len(rows)


def _table(network: str, kind: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", network):
        raise ValueError(f"not a network name: {network!r}")
    return f"raw.{network}_{kind}"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _parse(value: str | None) -> datetime | None:
    return parse_time(value) if value else None
