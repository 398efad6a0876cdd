"""Bulk import of interaction logs (CSV, TSV, Parquet) into `raw.import_interactions`.

A file is read whole by pyarrow (every column as text, so a bad value is a reject, not a read
failure), validated in one DuckDB statement, gated by the privacy registry, and landed in the
daily partitions its timestamps fall in. Rows are keyed by their natural key, (network, post_id,
reactor, reaction_type), so re-importing a file, or an export overlapping an earlier one, lands
nothing twice. Bad rows go to `raw.import_rejects` with file, line and reason; the good ones land.
Dagster-free: the CLI (`make import`) and the `raw/import_interactions` asset call it.
The contract is docs/contracts.md "Bulk imports".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from connectors.privacy import PrivacyGate
from domain.people import ADULT_AGE
from domain.privacy import MINOR

from . import takeout
from .forgetting import WarehousePrivacy
from .warehouse import REPO_ROOT

INTERACTIONS, REJECTS = "raw.import_interactions", "raw.import_rejects"
COLUMNS = ("network", "post_id", "author", "post_time", "text", "reactor", "reaction_type", "reaction_time")
REQUIRED = ("post_id", "author", "post_time")
DEFAULT_NETWORK = "imported"
# the words a file may use, each mapped to the shared vocabulary (raw keeps both)
REACTION_WORDS = {
    "like": "like",
    "favourite": "like",
    "favorite": "like",
    "reaction": "like",
    "plusone": "like",
    "reply": "reply",
    "comment": "reply",
    "reshare": "reshare",
    "repost": "reshare",
    "retweet": "reshare",
    "reblog": "reshare",
    "share": "reshare",
    "quote": "quote",
    "mention": "mention",
}
FORMATS = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".parquet": None, ".pq": None}


@cache
def imported_networks() -> tuple[str, ...]:
    """The network names an import may carry: dbt's `vars.imported_networks`, which the marts'
    accepted values of `network` include too, so the two never disagree."""
    dbt_vars = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    return tuple(dbt_vars["imported_networks"])


class ImportRefused(ValueError):
    """The file as a whole cannot be imported (unknown format, missing columns, unknown network)."""


@dataclass
class ImportReport:
    file: str
    sha256: str
    rows: int = 0
    landed: dict[date, int] = field(default_factory=dict)  # partition day -> new rows
    rejected: dict[date | None, int] = field(default_factory=dict)  # partition day (None: no valid time) -> rows
    already_landed: int = 0  # rows whose key an earlier import (or an earlier line) landed
    withheld: int = 0  # rows about an unmeasured person: not landed, not kept
    pseudonymised: int = 0  # rows by an unmeasured reactor: landed under a pseudonym, without text
    posts: int | None = None  # a Google+ Takeout archive: its post files (each may give several rows)

    @property
    def landed_rows(self) -> int:
        return sum(self.landed.values())

    @property
    def rejected_rows(self) -> int:
        return sum(self.rejected.values())

    def lines(self) -> list[str]:
        """What `make import` prints: per partition, then the totals and where the rejects are."""
        days = sorted(set(self.landed) | set(self.rejected), key=lambda d: (d is None, d or date.min))
        what = f"{self.rows:,} rows"
        if self.posts is not None:
            what = f"Google+ Takeout, {self.posts:,} posts, {what}"
        out = [
            f"{self.file}: {what} (sha256 {self.sha256[:12]})",
            f"  {'partition':<12} {'landed':>10} {'rejected':>10}",
        ]
        out += [
            f"  {str(d or 'no time'):<12} {self.landed.get(d, 0):>10,} {self.rejected.get(d, 0):>10,}" for d in days
        ]
        out.append(
            f"  total        {self.landed_rows:>10,} {self.rejected_rows:>10,}"
            f"   ({self.already_landed:,} already landed, {self.withheld:,} withheld and"
            f" {self.pseudonymised:,} pseudonymised by the privacy gate)"
        )
        if self.rejected_rows:
            out.append(f"  rejects: {REJECTS} where source_sha256 = '{self.sha256}' (file, line, reason, payload)")
        return out


def _register(conn: duckdb.DuckDBPyConnection, name: str, frame) -> None:
    """`conn.register`, after finishing whatever result an earlier caller left half-read (DuckDB
    refuses a registration while one is pending)."""
    conn.execute("select 1").fetchall()
    conn.register(name, frame)


def ensure_import_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Identifier columns follow the warehouse's naming (`*_account_id`, `reactor_account_id`), so
    forgetting and the audit find them without a list."""
    conn.execute("create schema if not exists raw")
    conn.execute(
        f"""create table if not exists {INTERACTIONS} (
            network varchar, post_id varchar, author_account_id varchar, posted_at timestamptz, text varchar,
            reactor_account_id varchar, reaction_type varchar, source_reaction_type varchar,
            reacted_at timestamptz, partition_day date, source_file varchar, source_sha256 varchar,
            source_line bigint, fetched_at timestamptz)"""
    )
    conn.execute(
        f"""create table if not exists {REJECTS} (
            source_file varchar, source_sha256 varchar, line bigint, reason varchar, payload json,
            partition_day date, rejected_at timestamptz)"""
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _kind(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2", ".zst")]
    if not suffixes or suffixes[-1] not in FORMATS:
        raise ImportRefused(f"{path}: unknown format; expected one of {', '.join(FORMATS)} (optionally .gz)")
    return FORMATS[suffixes[-1]]


def read_file(path: Path) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    """(rows as text with their line numbers, [(line, reason, raw text)] of rows that could not
    be split into the header's columns). CSV/TSV lines count records, the header being line 1;
    a Parquet file's "line" is its row number (1-based)."""
    delimiter = _kind(path)
    if delimiter is None:
        table = pq.read_table(path)
        table = table.append_column("source_line", pa.array(range(1, table.num_rows + 1), pa.int64()))
        return _as_text(table, path), []
    with pa.input_stream(str(path), compression="detect") as stream:
        header = stream.read(1 << 16).split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    names = [n.strip().lower() for n in header.split(delimiter)]
    _check_columns(names, path)
    bad: list[tuple[int, str, str]] = []

    def invalid(row) -> str:
        bad.append((row.number, f"wrong column count: {row.actual_columns}, expected {row.expected_columns}", row.text))
        return "skip"

    with pa.input_stream(str(path), compression="detect") as stream:
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    # pyarrow numbers records from the header's 1 (skipped rows included); good rows keep file order
    bad_lines = {number for number, _, _ in bad}
    lines, number = [], 1
    for _ in range(table.num_rows):
        number += 1
        while number in bad_lines:
            number += 1
        lines.append(number)
    return _as_text(table.append_column("source_line", pa.array(lines, pa.int64())), path), bad


def takeout_table(rows: list[dict]) -> pa.Table:
    """A Takeout archive's rows (orchestration/takeout.py) as the table a read file gives."""
    columns = {name: pa.array([r.get(name) for r in rows], pa.string()) for name in (*COLUMNS, "source_file")}
    columns["source_line"] = pa.array([r["source_line"] for r in rows], pa.int64())
    return pa.table(columns)


def _with_sources(table: pa.Table) -> pa.Table:
    """`source_seq` (the row's order, which breaks ties of rows sharing a line: an archive's post
    gives several) and `source_file` (a member of an archive; empty: the file imported)."""
    if "source_file" not in table.column_names:
        table = table.append_column("source_file", pa.nulls(table.num_rows, pa.string()))
    return table.append_column("source_seq", pa.array(range(table.num_rows), pa.int64()))


def _check_columns(names: list[str], path: Path) -> None:
    missing = [c for c in (*REQUIRED, "reactor", "reaction_type") if c not in names]
    if missing:
        raise ImportRefused(
            f"{path}: missing column(s) {', '.join(missing)}; the header must name {', '.join(COLUMNS)}"
        )


def _as_text(table: pa.Table, path: Path) -> pa.Table:
    """Every contract column as text (a Parquet timestamp as its ISO text), absent optional ones empty."""
    names = [n.lower() for n in table.column_names]
    table = table.rename_columns(names)
    _check_columns(names, path)
    columns = {}
    for name in COLUMNS:
        if name in names:
            column = table.column(name)
            if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
                column = pa.array([None if v is None else v.isoformat() for v in column.to_pylist()], pa.string())
            columns[name] = column.cast(pa.string())
        else:
            columns[name] = pa.nulls(table.num_rows, pa.string())
    columns["source_line"] = table.column("source_line")
    return pa.table(columns)


def unmeasured_needles(registry: WarehousePrivacy, first_day: date) -> pd.DataFrame:
    """Who is unmeasured on any day from `first_day` on (minors until they turn 18), by every id
    the registry knows them by: person ids, account ids and `network:account_id` keys on every
    network, and linked handles. An imported file's ids may be any of these, whatever network
    name the file carries, so all are matched."""
    registry.ensure_registry()
    who = registry.unmeasured(first_day)
    profiles = registry.profiles_on(date.max).set_index("person_id")
    until: dict[str, date | None] = {}
    for person, reason in who.reasons.items():
        birth = profiles["birth_date"].get(person) if reason == MINOR else None
        until[person] = _adult_on(birth) if birth is not None and not pd.isna(birth) else None
    pairs = [(p, p) for p in who.reasons]
    pairs += [(a, p) for _, a, p in who.accounts] + [(f"{n}:{a}", p) for n, a, p in who.accounts]
    pairs += [(h, p) for (_, h), p in who.handles.items()]
    frame = pd.DataFrame(
        [(n.lower().lstrip("@"), p, until.get(p)) for n, p in pairs if n], columns=["needle", "person_id", "until"]
    )
    frame["until"] = pd.to_datetime(frame["until"]).dt.date
    return frame.drop_duplicates()


def _adult_on(birth) -> date:
    birth = pd.Timestamp(birth).date()
    try:
        return birth.replace(year=birth.year + ADULT_AGE)
    except ValueError:  # born on 29 February
        return date(birth.year + ADULT_AGE, 3, 1)


VALIDATE = """
create or replace temp table _import as
with src as (
    select
        source_line,
        source_seq,
        source_file,
        nullif(trim(coalesce(network, '')), '') as file_network,
        nullif(trim(post_id), '') as post_id,
        nullif(trim(author), '') as author,
        nullif(trim(post_time), '') as post_time_text,
        try_cast(nullif(trim(post_time), '') as timestamptz) as posted_at,
        nullif(text, '') as text,
        nullif(trim(reactor), '') as reactor,
        nullif(lower(trim(reaction_type)), '') as source_reaction_type,
        nullif(trim(reaction_time), '') as reaction_time_text,
        try_cast(nullif(trim(reaction_time), '') as timestamptz) as reacted_at,
        to_json(struct_pack(
            network, post_id, author, post_time, text, reactor, reaction_type, reaction_time
        )) as payload
    from _file
),
typed as (
    select
        *,
        coalesce(lower(file_network), $default_network) as network,
        map($words_from::varchar[], $words_to::varchar[])[source_reaction_type] as reaction_type
    from src
)
select
    *,
    cast(timezone('UTC', coalesce(reacted_at, posted_at)) as date) as partition_day,
    case
        when post_id is null then 'missing post_id'
        when author is null then 'missing author'
        when post_time_text is null then 'missing post_time'
        when posted_at is null then 'bad post_time ' || to_json(post_time_text) || ' (ISO 8601 expected)'
        when reaction_time_text is not null and reacted_at is null
            then 'bad reaction_time ' || to_json(reaction_time_text) || ' (ISO 8601 expected)'
        when reactor is null and source_reaction_type is not null then 'reaction_type without a reactor'
        when reactor is not null and source_reaction_type is null then 'reactor without a reaction_type'
        when source_reaction_type is not null and reaction_type is null
            then 'unknown reaction_type ' || to_json(source_reaction_type) || ' (allowed: ' || $allowed_words || ')'
        when not list_contains($networks::varchar[], network)
            then 'unknown network ' || to_json(network) || ' (allowed: ' || array_to_string($networks::varchar[], ', ')
                || '; add it to vars.imported_networks in dbt_project/dbt_project.yml)'
        when reacted_at is not null and reacted_at < posted_at then 'reaction_time before post_time'
    end as reason
from typed
"""


def import_file(
    conn: duckdb.DuckDBPyConnection,
    path: str | Path,
    network: str | None = None,
    salt: str = "",
    window: tuple[date, date] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Land one file, or one Google+ Takeout archive (a `.zip` or folder holding `Posts/*.json`),
    rows in `window` only when given (a partitioned run's share), and report it."""
    path = Path(path)
    allowed = imported_networks()
    if network is not None and network not in allowed:
        raise ImportRefused(
            f"unknown network {network!r}: allowed {', '.join(allowed)} (vars.imported_networks in dbt_project.yml)"
        )
    if takeout.is_takeout(path):
        archive = takeout.read_takeout(path)
        report = ImportReport(str(path), archive.sha256, posts=archive.posts)
        table, bad = takeout_table(archive.rows), archive.rejects
        network = network or takeout.NETWORK
    elif path.is_file():
        report = ImportReport(str(path), file_sha256(path))
        table, bad = read_file(path)
    else:
        raise ImportRefused(f"{path}: no such file (nor a Google+ Takeout archive holding Posts/*.json)")
    now = now or datetime.now(UTC)
    report.rows = table.num_rows + len(bad)
    table = _with_sources(table)
    conn.execute("set TimeZone = 'UTC'")
    ensure_import_tables(conn)
    registry = WarehousePrivacy(conn, salt)
    _register(conn, "_file", table)
    try:
        conn.execute(
            VALIDATE,
            {
                "default_network": network or DEFAULT_NETWORK,
                "words_from": list(REACTION_WORDS),
                "words_to": list(REACTION_WORDS.values()),
                "allowed_words": ", ".join(REACTION_WORDS),
                "networks": list(allowed),
            },
        )
    finally:
        conn.unregister("_file")
    # a post belongs to one author: a later line naming another is a reject (a mention's author is the
    # account mentioned, not the post's: mentions take no part)
    conn.execute(
        """update _import as i set reason = 'post_id ' || to_json(i.post_id) || ' belongs to '
               || to_json(f.author) || ' (line ' || f.source_line || ')'
           from (select network, post_id, arg_min(author, source_line) as author, min(source_line) as source_line
                 from _import where reason is null and reaction_type is distinct from 'mention' group by all) as f
           where i.reason is null and i.network = f.network and i.post_id = f.post_id and i.author <> f.author
             and i.reaction_type is distinct from 'mention'"""
    )
    in_window = "true" if window is None else "partition_day between ? and ?"
    params = [] if window is None else list(window)
    first = conn.execute(f"select min(partition_day) from _import where reason is null and {in_window}", params)
    first_day = first.fetchall()[0][0]
    if first_day is not None:
        _gate(conn, registry, first_day, salt, report, in_window, params)
    conn.execute("begin transaction")
    try:
        if first_day is not None:
            _land(conn, report, path, now)
        _reject(conn, report, path, bad, now, window)
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    if first_day is not None:  # what an earlier import holds of people unmeasured since: forgotten as landing does
        registry.purge(registry.unmeasured(now.date()), tables=[INTERACTIONS, REJECTS])
    return report


def _gate(conn, registry, first_day, salt, report, in_window, params) -> None:
    """`_good`: the window's valid rows, first line per key, without rows about unmeasured people
    (withheld) and with unmeasured reactors under their pseudonym and no text."""
    needles = unmeasured_needles(registry, first_day)
    _register(conn, "_needles_frame", needles)
    try:
        conn.execute(
            f"""create or replace temp table _good as
            with valid as (
                select * from _import where reason is null and {in_window}
                qualify row_number() over (
                    partition by network, post_id, coalesce(reactor, ''), coalesce(reaction_type, '')
                    order by source_line, source_seq) = 1
            ),
            marked as (
                select v.*,
                    exists (select 1 from _needles_frame as n where n.needle = lower(ltrim(v.author, '@'))
                            and (n.until is null or v.partition_day < n.until)) as author_unmeasured,
                    exists (select 1 from _needles_frame as n where n.needle = lower(ltrim(v.reactor, '@'))
                            and (n.until is null or v.partition_day < n.until)) as reactor_unmeasured
                from valid as v
            )
            select * from marked""",
            params,
        )
    finally:
        conn.unregister("_needles_frame")
    report.withheld = conn.execute("select count(*) from _good where author_unmeasured").fetchall()[0][0]
    conn.execute("delete from _good where author_unmeasured")
    hidden = conn.execute("select distinct network, reactor from _good where reactor_unmeasured").fetchall()
    pseudonyms = pd.DataFrame(
        [(n, r, PrivacyGate(n, frozenset(), salt).pseudonym(r)) for n, r in hidden],
        columns=["network", "reactor", "pseudonym"],
    )
    _register(conn, "_pseudonym_frame", pseudonyms)
    try:
        report.pseudonymised = conn.execute(
            """update _good as g set reactor = p.pseudonym
               from _pseudonym_frame as p
               where g.reactor_unmeasured and g.network = p.network and g.reactor = p.reactor"""
        ).fetchall()[0][0]
    finally:
        conn.unregister("_pseudonym_frame")


def _land(conn, report: ImportReport, path: Path, now: datetime) -> None:
    """The gated rows whose key is not landed yet; the others were landed by an earlier import."""
    conn.execute(
        f"""create or replace temp table _new as
        select g.* from _good as g
        anti join {INTERACTIONS} as t
            on t.network = g.network and t.post_id = g.post_id
            and coalesce(t.reactor_account_id, '') = coalesce(g.reactor, '')
            and coalesce(t.reaction_type, '') = coalesce(g.reaction_type, '')"""
    )
    conn.execute(
        f"""insert into {INTERACTIONS}
        select network, post_id, author, posted_at, text, reactor, reaction_type, source_reaction_type,
               reacted_at, partition_day, coalesce(source_file, ?), ?, source_line, ?
        from _new order by partition_day, source_line, source_seq""",
        [str(path), report.sha256, now],
    )
    report.landed = dict(conn.execute("select partition_day, count(*) from _new group by 1 order by 1").fetchall())
    report.already_landed = conn.execute("select count(*) from _good").fetchall()[0][0] - report.landed_rows


def _reject(conn, report: ImportReport, path: Path, bad: Iterable[tuple], now, window) -> None:
    """Rejects keyed by (file content, line): importing the same file again replaces its rejects.
    `bad` holds (line, reason, raw text[, source file inside an archive])."""
    rows = pd.DataFrame(
        [(*b, None) if len(b) == 3 else tuple(b) for b in bad], columns=["line", "reason", "text", "file"], dtype=object
    )
    _register(conn, "_bad_frame", rows)
    try:
        in_window = "" if window is None else "and (partition_day is null or partition_day between ? and ?)"
        conn.execute(
            f"""create or replace temp table _rejects as
            select source_line as line, reason, payload, partition_day, source_file, source_seq from _import
            where reason is not null {in_window}
            union all
            select line::bigint, reason, to_json(struct_pack(text)), null::date, file, null::bigint
            from _bad_frame""",
            [] if window is None else list(window),
        )
    finally:
        conn.unregister("_bad_frame")
    conn.execute(
        f"delete from {REJECTS} where source_sha256 = ? and line in (select line from _rejects)", [report.sha256]
    )
    conn.execute(
        f"insert into {REJECTS} select coalesce(source_file, ?), ?, line, reason, payload, partition_day, ?"
        " from _rejects order by line, source_seq nulls last",
        [str(path), report.sha256, now],
    )
    counts = conn.execute("select partition_day, count(*) from _rejects group by 1").fetchall()
    report.rejected = {day: n for day, n in counts}
