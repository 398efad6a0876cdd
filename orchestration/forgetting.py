"""Forgetting unmeasured people in every table of the warehouse, on every past day, and auditing
that nothing of them is left outside the registry.

The rule of who is unmeasured is the domain's (`domain.privacy.unmeasured_on`); this class owns
the SQL that applies it. Tables are found, not listed: every base table of every schema is
purged by its column names, so a new table is covered the day it appears.

- A column named `reactor_*` (account id, account key, person id) is *pseudonymised*: reactions
  by an unmeasured person still count for the person they reacted to, under a salted pseudonym,
  and the row's payload is emptied.
- Any other identifier column (`*person_id`, `*account_id`, `*account_key`, `*handle`) naming an
  unmeasured person deletes its row.
- JSON payloads of other people's rows (a post that mentions them) have their ids and handles
  redacted.

The registry keeps what the gate needs to say "do not measure": profile ids with their flags
(birth dates only of minors, names of nobody unmeasured), linked handles, and the account ids the
gate resolved, in schema `privacy`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from connectors.privacy import PrivacyGate
from domain.privacy import MINOR, PRIVATE, unmeasured_on

from .warehouse import TopicStateStore

SCHEMA = "privacy"
REGISTRY_TABLES = frozenset(
    {"raw.platform_profiles", "raw.platform_links", "staging.stg_platform__profiles", "staging.stg_platform__links"}
)
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")
REDACTED = "redacted"
_IDENTIFIER = re.compile(r"^(?:.*_)?(person_id|account_id|account_key|handle)$")
_PSEUDONYMISED = re.compile(r"^reactor_(person_id|account_id|account_key)$")
_TEXT_TYPES = ("VARCHAR", "JSON")


@dataclass(frozen=True)
class Unmeasured:
    """Everyone not measured as of a day, and every identifier they are known by."""

    reasons: dict[str, str]  # person_id -> why
    accounts: frozenset[tuple[str, str, str]] = frozenset()  # (network, account_id, person_id)
    handles: dict[tuple[str, str], str] = field(default_factory=dict)  # (network, handle) -> person_id

    @property
    def person_ids(self) -> set[str]:
        return set(self.reasons)

    @property
    def account_keys(self) -> dict[str, tuple[str, str]]:
        """`network:account_id` (the staging key, and an unregistered account's person id) -> (network, id)."""
        return {f"{network}:{account}": (network, account) for network, account, _ in self.accounts}

    def needles(self, network: str | None = None) -> set[str]:
        """Every string that names one of them in a table of `network` (None: a table of no one
        network): person ids, account ids and keys, a registered person's handles, and the handles
        of `network`'s accounts that are their own person (the same string on another network
        is somebody else's account)."""
        return (
            self.person_ids
            | {a for _, a, _ in self.accounts}
            | set(self.account_keys)
            | {h for (n, h), p in self.handles.items() if not _is_account_person(p) or n == network}
        )

    def scoped_handles(self) -> set[tuple[str, str]]:
        """(network, handle) of the accounts that are their own person: needles in `network`'s tables only."""
        return {(n, h) for (n, h), p in self.handles.items() if _is_account_person(p)}

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason in self.reasons.values():
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items()))


@dataclass
class Finding:
    table: str
    column: str
    rows: int

    def __str__(self) -> str:
        return f"{self.table}.{self.column}: {self.rows} rows"


@dataclass
class PurgeReport:
    rows: dict[str, int] = field(default_factory=dict)  # "table (deleted|pseudonymised|redacted)" -> rows

    def add(self, key: str, count: int) -> None:
        if count:
            self.rows[key] = self.rows.get(key, 0) + count


class WarehousePrivacy:
    """The registry and the forgetting, on one DuckDB connection."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, salt: str):
        self.conn, self.salt = conn, salt

    # ------------------------------------------------------------------ registry
    def ensure_registry(self) -> None:
        c = self.conn
        c.execute(f"create schema if not exists {SCHEMA}")
        c.execute(f"create table if not exists {SCHEMA}.unmeasured_persons (person_id varchar, reason varchar)")
        c.execute(
            f"create table if not exists {SCHEMA}.unmeasured_accounts"
            " (network varchar, account_id varchar, person_id varchar)"
        )
        c.execute(f"create table if not exists {SCHEMA}.erasures (person_id varchar, erased_at timestamptz)")
        # tracked accounts their network marks private (no owner's consent), by the gate's latest word
        c.execute(
            f"create table if not exists {SCHEMA}.private_accounts (network varchar, account_id varchar, seen_on date)"
        )
        c.execute(
            f"create table if not exists {SCHEMA}.audits (run_id varchar, audited_at timestamptz,"
            " through_day date, tables_searched integer, findings integer)"
        )
        c.execute(
            f"create table if not exists {SCHEMA}.audit_findings (run_id varchar, table_name varchar,"
            " column_name varchar, rows bigint)"
        )
        # subject requests: who asked, when, how many rows; the subject only as a salted hash
        c.execute(
            f"create table if not exists {SCHEMA}.requests (request_id varchar, kind varchar, requested_by varchar,"
            " requested_at timestamptz, subject_hash varchar, row_counts json)"
        )

    def _exists(self, table: str) -> bool:
        schema, name = table.split(".")
        return bool(
            self.conn.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()[0]
        )

    def profiles_on(self, day: date) -> pd.DataFrame:
        """Each registered person's latest profile snapshot up to `day`."""
        if not self._exists("raw.platform_profiles"):
            return pd.DataFrame(columns=["person_id", "birth_date", "opted_out", "is_private", "private_consent"])
        return self.conn.execute(
            """select person_id, birth_date, opted_out, is_private, private_consent
               from raw.platform_profiles where partition_day <= ?
               qualify row_number() over (partition by person_id order by partition_day desc, fetched_at desc) = 1
               order by person_id""",
            [day],
        ).df()

    def erased(self) -> set[str]:
        return {p for (p,) in self.conn.execute(f"select person_id from {SCHEMA}.erasures").fetchall()}

    def unmeasured(self, day: date) -> Unmeasured:
        """Unmeasured on `day`: ages count on that day; opt-outs, withdrawn consents and erasures
        by the latest registry, so they reach back over all history, and re-running an old
        partition after someone left never brings them back."""
        self.ensure_registry()
        reasons = unmeasured_on(self.profiles_on(date.max), day, self.erased())
        for network, account_id in self.conn.execute(
            f"select network, account_id from {SCHEMA}.private_accounts order by 1, 2"
        ).fetchall():  # the account is the unmeasured one (its owner may be measured elsewhere)
            reasons.setdefault(f"{network}:{account_id}", PRIVATE)
        return self.identified(reasons)

    def identified(self, reasons: dict[str, str]) -> Unmeasured:
        """`reasons`' persons with every account id and handle the warehouse knows them by."""
        self.ensure_registry()
        people = list(reasons)
        handles: list[tuple[str, str, str]] = []
        if people and self._exists("raw.platform_links"):
            handles = self.conn.execute(
                "select distinct network, handle, person_id from raw.platform_links"
                " where person_id in (select unnest(?))",
                [people],
            ).fetchall()
        accounts = (
            set(
                self.conn.execute(
                    f"select network, account_id, person_id from {SCHEMA}.unmeasured_accounts"
                    " where person_id in (select unnest(?))",
                    [people],
                ).fetchall()
            )
            if people
            else set()
        )
        for person in people:  # an unregistered account is its own person: `network:account_id`
            network, _, account = person.partition(":")
            if account and self._exists(f"raw.{network}_accounts"):
                accounts.add((network, account, person))
                handles += [
                    (network, h, person)
                    for (h,) in self.conn.execute(
                        f"select distinct handle from raw.{network}_accounts where account_id = ?", [account]
                    ).fetchall()
                ]
        for network in {n for n, _, _ in handles}:  # accounts landed before they became unmeasured
            if self._exists(f"raw.{network}_accounts"):
                by_handle = [(h, p) for n, h, p in handles if n == network]
                accounts |= {
                    (network, a, p)
                    for a, p in self.conn.execute(
                        f"select distinct a.account_id, h.person_id from raw.{network}_accounts as a"
                        " join (select unnest(?) as handle, unnest(?) as person_id) as h on h.handle = a.handle",
                        [[h for h, _ in by_handle], [p for _, p in by_handle]],
                    ).fetchall()
                }
        return Unmeasured(reasons, frozenset(accounts), {(n, h): p for n, h, p in handles})

    def consenting_private_handles(self, network: str) -> list[str]:
        """Handles of private accounts whose owners consent (latest registry): measurable despite
        the network's flag."""
        profiles = self.profiles_on(date.max)
        consenting = profiles.loc[
            profiles["is_private"].fillna(False).astype(bool) & profiles["private_consent"].fillna(False).astype(bool),
            "person_id",
        ]
        if consenting.empty:
            return []
        return [
            h
            for (h,) in self.conn.execute(
                "select distinct handle from raw.platform_links where network = ? and person_id in (select unnest(?))"
                " and partition_day = (select max(partition_day) from raw.platform_links)"
                " order by 1",
                [network, list(consenting)],
            ).fetchall()
        ]

    def record_accounts(self, network: str, accounts: dict[str, str]) -> None:
        """Remember the account ids the gate resolved for unmeasured people (account_id -> person_id)."""
        self.ensure_registry()
        for account_id, person_id in sorted(accounts.items()):
            self.conn.execute(
                f"insert into {SCHEMA}.unmeasured_accounts select ?, ?, ? where not exists (select 1 from"
                f" {SCHEMA}.unmeasured_accounts where network = ? and account_id = ? and person_id = ?)",
                [network, account_id, person_id, network, account_id, person_id],
            )

    def record_privacy_flags(self, network: str, private: set[str], public: set[str], day: date) -> set[str]:
        """The gate's word on tracked accounts: `private` ones (unconsented) are not measured from
        now on and what was landed of them is forgotten; one seen `public` again is measured again.
        Returns the accounts newly seen private."""
        self.ensure_registry()
        known = {
            a
            for (a,) in self.conn.execute(
                f"select account_id from {SCHEMA}.private_accounts where network = ?", [network]
            ).fetchall()
        }
        if public:
            self.conn.execute(
                f"delete from {SCHEMA}.private_accounts where network = ? and account_id in (select unnest(?))",
                [network, sorted(public)],
            )
        for account_id in sorted(private):
            self.conn.execute(
                f"insert into {SCHEMA}.private_accounts select ?, ?, ? where not exists (select 1 from"
                f" {SCHEMA}.private_accounts where network = ? and account_id = ?)",
                [network, account_id, day, network, account_id],
            )
        return set(private) - known

    def write_registry(self, unmeasured: Unmeasured) -> None:
        frame = pd.DataFrame(sorted(unmeasured.reasons.items()), columns=["person_id", "reason"])
        self.conn.register("_unmeasured", frame)
        try:
            self.conn.execute(f"delete from {SCHEMA}.unmeasured_persons")
            self.conn.execute(f"insert into {SCHEMA}.unmeasured_persons select * from _unmeasured")
        finally:
            self.conn.unregister("_unmeasured")

    # ------------------------------------------------------------------ a run's two steps
    def forget(self, day: date) -> tuple[Unmeasured, PurgeReport]:
        """Who is unmeasured on `day`, written to the registry, and forgotten everywhere."""
        unmeasured = self.unmeasured(day)
        newly = set(unmeasured.reasons) - self.registered()
        self.write_registry(unmeasured)
        report = self.purge(unmeasured)
        if newly:  # their past rows are gone: evidence carried from before them would still count them
            TopicStateStore.drop(self.conn)
        return unmeasured, report

    def registered(self) -> set[str]:
        """Who the registry holds as unmeasured now."""
        if not self._exists(f"{SCHEMA}.unmeasured_persons"):
            return set()
        return {p for (p,) in self.conn.execute(f"select person_id from {SCHEMA}.unmeasured_persons").fetchall()}

    def audit_run(self, run_id: str, day: date) -> tuple[Unmeasured, list[Finding], int]:
        """The audit of the whole warehouse as of `day`, recorded under `run_id`."""
        unmeasured = self.unmeasured(day)
        findings = self.audit(unmeasured)
        searched = len(self.text_columns(base_tables_only=False))
        self.record_audit(run_id, day, searched, findings)
        return unmeasured, findings, searched

    # ------------------------------------------------------------------ forgetting
    def audit_of(self, run_id: str) -> tuple[tuple[int, int] | None, list[tuple[str, str, int]]]:
        """((tables searched, findings) or None if the run audited nothing, [(table, column, rows)])."""
        audit = self.conn.execute(
            f"select tables_searched, findings from {SCHEMA}.audits where run_id = ?", [run_id]
        ).fetchone()
        found = self.conn.execute(
            f"select table_name, column_name, rows from {SCHEMA}.audit_findings where run_id = ? order by 1, 2",
            [run_id],
        ).fetchall()
        return audit, found

    def text_columns(self, base_tables_only: bool) -> dict[str, list[tuple[str, str]]]:
        """table -> [(column, type)] of its VARCHAR and JSON columns, outside the registry."""
        kinds = "('BASE TABLE')" if base_tables_only else "('BASE TABLE', 'VIEW')"
        rows = self.conn.execute(
            f"""select c.table_schema || '.' || c.table_name, c.column_name, c.data_type
                from information_schema.columns as c
                join information_schema.tables as t using (table_catalog, table_schema, table_name)
                where t.table_type in {kinds} and c.table_schema not in (select unnest(?))
                  and c.data_type in (select unnest(?)) and t.table_catalog = current_database()
                order by 1, c.ordinal_position""",
            [[*SYSTEM_SCHEMAS, SCHEMA], list(_TEXT_TYPES)],
        ).fetchall()
        tables: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in rows:
            if table not in REGISTRY_TABLES:
                tables.setdefault(table, []).append((column, kind))
        return tables

    def _register_needles(self, unmeasured: Unmeasured) -> None:
        """Temp tables: every needle, and each account's pseudonym in raw-id and key form."""
        scoped = sorted(unmeasured.scoped_handles())
        self.conn.execute(
            "create or replace temp table _needles as select unnest(?::varchar[]) as needle, null::varchar as network"
            " union all select unnest(?::varchar[]), unnest(?::varchar[])",
            [sorted(unmeasured.needles()), [h for _, h in scoped], [n for n, _ in scoped]],
        )
        pairs = []
        for network, account, _ in sorted(unmeasured.accounts):
            pseudonym = PrivacyGate(network, frozenset(), self.salt).pseudonym(account)
            pairs += [(account, pseudonym), (f"{network}:{account}", f"{network}:{pseudonym}")]
        self.conn.execute(
            "create or replace temp table _pseudonyms as select unnest(?::varchar[]) as original,"
            " unnest(?::varchar[]) as pseudonym",
            [[o for o, _ in pairs], [p for _, p in pairs]],
        )

    def purge(self, unmeasured: Unmeasured, tables: list[str] | None = None) -> PurgeReport:
        """Forget them everywhere, or in `tables` only (idempotent: a second purge changes nothing)."""
        report = PurgeReport()
        if not unmeasured.reasons:
            return report
        self._register_needles(unmeasured)
        self.conn.execute("begin transaction")
        try:
            if tables is None:
                self._purge_registry(unmeasured, report)
            for table, columns in self.text_columns(base_tables_only=True).items():
                if tables is None or table in tables:
                    self._purge_table(table, columns, unmeasured, report)
            self.conn.execute("commit")
        except Exception:
            self.conn.execute("rollback")
            raise
        return report

    def _purge_registry(self, unmeasured: Unmeasured, report: PurgeReport) -> None:
        """Profiles of unmeasured people keep their id and flags; minors keep their birth date."""
        if not self._exists("raw.platform_profiles"):
            return
        minors = [p for p, why in unmeasured.reasons.items() if why == MINOR]
        report.add(
            "raw.platform_profiles (reduced to the registry)",
            self.conn.execute(
                """update raw.platform_profiles
               set display_name = null, location = null, payload = '{}',
                   birth_date = case when person_id in (select unnest(?::varchar[])) then birth_date end
               where person_id in (select unnest(?::varchar[]))
                 and (display_name is not null or location is not null or payload::varchar <> '{}'
                      or (birth_date is not null and person_id not in (select unnest(?::varchar[]))))""",
                [minors, sorted(unmeasured.person_ids), minors],
            ).fetchone()[0],
        )

    def _purge_table(
        self, table: str, columns: list[tuple[str, str]], unmeasured: Unmeasured, report: PurgeReport
    ) -> None:
        network = _table_network(table, unmeasured)
        pattern, needles = _quoted_pattern(unmeasured.needles(network)), _needle_set(network)
        names = [c for c, _ in columns]
        key = next((c for c in ("reactor_account_key", "reactor_account_id") if c in names), None)
        reactor = [c for c in names if _PSEUDONYMISED.match(c)] if key else []
        if reactor and "reaction_type" in names:
            # a mention is part of the mentioner's post: their posts are forgotten, so are their mentions
            report.add(
                f"{table} (deleted)",
                self.conn.execute(
                    f"delete from {table} where reaction_type = 'mention'"
                    f" and {key} in (select original from _pseudonyms)"
                ).fetchone()[0],
            )
        if reactor:
            # every reactor column takes the pseudonym of the reactor's account, the payload goes
            sets = ", ".join(
                [f"{c} = p.pseudonym" for c in reactor] + (["payload = '{}'"] if "payload" in names else [])
            )
            report.add(
                f"{table} (pseudonymised)",
                self.conn.execute(
                    f"update {table} as t set {sets} from _pseudonyms as p where t.{key} = p.original"
                ).fetchone()[0],
            )
        others = [c for c in names if _IDENTIFIER.match(c)]  # reactor columns too: whatever still names them
        if others:
            where = " or ".join(f"{c} in {needles}" for c in others)
            report.add(f"{table} (deleted)", self.conn.execute(f"delete from {table} where {where}").fetchone()[0])
        for column, kind in columns:
            if kind == "JSON":
                report.add(
                    f"{table} (redacted)",
                    self.conn.execute(
                        f"update {table} set {column} = regexp_replace({column}::varchar, ?, ?, 'g')::json"
                        f" where regexp_matches({column}::varchar, ?)",
                        [pattern, f'"{REDACTED}"', pattern],
                    ).fetchone()[0],
                )

    # ------------------------------------------------------------------ audit
    def audit(self, unmeasured: Unmeasured, tables: list[str] | None = None) -> list[Finding]:
        """Every place outside the registry that still names an unmeasured person: every column of
        text of every table and view (or of `tables` only), plus names or locations left in the
        registry's profiles."""
        findings: list[Finding] = []
        if not unmeasured.reasons:
            return findings
        self._register_needles(unmeasured)
        for table, columns in self.text_columns(base_tables_only=False).items():
            if tables is not None and table not in tables:
                continue
            network = _table_network(table, unmeasured)
            pattern, needles = _quoted_pattern(unmeasured.needles(network)), _needle_set(network)
            for column, kind in columns:
                if kind == "JSON":
                    sql = f"select count(*) from {table} where regexp_matches({column}::varchar, ?)"
                    hits = self.conn.execute(sql, [pattern]).fetchone()[0]
                else:
                    hits = self.conn.execute(f"select count(*) from {table} where {column} in {needles}").fetchone()[0]
                if hits:
                    findings.append(Finding(table, column, hits))
        if self._exists("raw.platform_profiles"):
            named = self.conn.execute(
                "select count(*) from raw.platform_profiles where person_id in (select unnest(?::varchar[]))"
                " and (display_name is not null or location is not null)",
                [sorted(unmeasured.person_ids)],
            ).fetchone()[0]
            if named:
                findings.append(Finding("raw.platform_profiles", "display_name/location", named))
        return findings

    def record_audit(self, run_id: str, through_day: date, tables_searched: int, findings: list[Finding]) -> None:
        """One row per audit and one per finding, replaced if the run audits again; never the ids."""
        self.ensure_registry()
        self.conn.execute(f"delete from {SCHEMA}.audits where run_id = ?", [run_id])
        self.conn.execute(f"delete from {SCHEMA}.audit_findings where run_id = ?", [run_id])
        self.conn.execute(
            f"insert into {SCHEMA}.audits values (?, ?, ?, ?, ?)",
            [run_id, datetime.now(UTC), through_day, tables_searched, len(findings)],
        )
        for finding in findings:
            self.conn.execute(
                f"insert into {SCHEMA}.audit_findings values (?, ?, ?, ?)",
                [run_id, finding.table, finding.column, finding.rows],
            )

    # ------------------------------------------------------------------ subject requests
    def export_person(self, person_id: str) -> dict[str, list[dict]]:
        """Everything the warehouse holds about one person, registry included: table -> rows."""
        subject = self.identified({person_id: "subject"})
        self._register_needles(subject)
        rows = self.conn.execute(
            """select c.table_schema || '.' || c.table_name, list(c.column_name order by c.ordinal_position),
                      list(c.data_type order by c.ordinal_position)
               from information_schema.columns as c
               join information_schema.tables as t using (table_catalog, table_schema, table_name)
               where t.table_type = 'BASE TABLE' and t.table_catalog = current_database()
                 and c.table_schema not in (select unnest(?)) and c.data_type in (select unnest(?))
                 and not (c.table_schema = ? and c.table_name = 'requests')
               group by 1 order by 1""",
            [list(SYSTEM_SCHEMAS), list(_TEXT_TYPES), SCHEMA],
        ).fetchall()
        export: dict[str, list[dict]] = {}
        for table, columns, kinds in rows:
            network = _table_network(table, subject)
            pattern, needles = _quoted_pattern(subject.needles(network)), _needle_set(network)
            where = " or ".join(
                f"regexp_matches({c}::varchar, ?)" if k == "JSON" else f"{c} in {needles}"
                for c, k in zip(columns, kinds)
            )
            frame = self.conn.execute(
                f"select * from {table} where {where} order by all", [pattern] * kinds.count("JSON")
            ).df()
            if len(frame):
                export[table] = json.loads(frame.to_json(orient="records", date_format="iso"))
        return export

    def export_request(self, person_id: str, requested_by: str, out_dir: Path) -> tuple[str, Path, dict[str, int]]:
        """Subject access: write everything held about the person as JSON; audit the request."""
        export = self.export_person(person_id)
        counts = {table: len(rows) for table, rows in export.items()}
        request_id = self.log_request("export", requested_by, person_id, counts)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{request_id}.json"
        path.write_text(
            json.dumps(
                {"request_id": request_id, "person_id": person_id, "tables": export},
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        )
        return request_id, path, counts

    def erase_request(self, person_id: str, requested_by: str, day: date) -> tuple[str, dict[str, int]]:
        """Erasure on request, audited."""
        counts = self.erase_person(person_id, day).rows
        return self.log_request("erase", requested_by, person_id, counts), counts

    def erase_person(self, person_id: str, day: date) -> PurgeReport:
        """Erasure on request: the person joins the registry as erased and is forgotten now, the same
        purge as an opt-out's; later runs never fetch them again."""
        self.ensure_registry()
        if person_id not in self.erased():
            self.conn.execute(f"insert into {SCHEMA}.erasures values (?, ?)", [person_id, datetime.now(UTC)])
        return self.forget(day)[1]

    def log_request(self, kind: str, requested_by: str, person_id: str, row_counts: dict[str, int]) -> str:
        """Audit a subject request without personal data: the subject only as a salted hash."""
        self.ensure_registry()
        at = datetime.now(UTC)
        subject = PrivacyGate("subject", frozenset(), self.salt).pseudonym(person_id)
        request_id = f"{kind}-{at.strftime('%Y%m%dT%H%M%S%f')}"
        self.conn.execute(
            f"insert into {SCHEMA}.requests values (?, ?, ?, ?, ?, ?)",
            [request_id, kind, requested_by, at, subject, json.dumps(row_counts, sort_keys=True)],
        )
        return request_id


def _is_account_person(person_id: str) -> bool:
    """An unregistered account is its own person, `network:account_id`; a registered one is not."""
    return ":" in person_id


def _table_network(table: str, unmeasured: Unmeasured) -> str | None:
    """The network whose own table this is (`raw.<network>_*`, `staging.stg_<network>__*`), if any
    scoped handle is of that network."""
    name = table.split(".", 1)[-1].strip('"')
    for network in {n for n, _ in unmeasured.scoped_handles()}:
        if name.startswith((f"{network}_", f"stg_{network}__")):
            return network
    return None


def _needle_set(network: str | None) -> str:
    """SQL for the registered needles that apply to a table of `network` (names are the registry's own)."""
    scoped = f" or network = '{network}'" if network else ""
    return f"(select needle from _needles where network is null{scoped})"


def _quoted_pattern(needles: set[str]) -> str:
    """A needle as a whole JSON string value: `"needle"`."""
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=lambda n: (-len(n), n)))
    return f'"(?:{alternatives})"'
