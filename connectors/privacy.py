"""Privacy gates at the front door, before anything reaches a table.

Opted-out persons and private accounts without their owner's consent are not measured: nothing
they post is fetched, reactions *to* them are dropped, and reactions *by* them still count for
the people they reacted to, but under a salted pseudonym with no payload, so they stay
countable (distinct, once) without being identifiable.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import duckdb

PSEUDONYM_PREFIX = "anon-"


@dataclass(frozen=True)
class PrivacyGate:
    network: str
    excluded_account_ids: frozenset[str] = field(default_factory=frozenset)
    salt: str = ""

    def pseudonym(self, account_id: str) -> str:
        digest = hashlib.sha256(f"{self.salt}|{self.network}|{account_id}".encode()).hexdigest()
        return PSEUDONYM_PREFIX + digest[:20]

    def gate_reaction(self, row: dict) -> dict | None:
        """The row as it may be stored, or None when it is about an excluded account."""
        if row["target_account_id"] in self.excluded_account_ids:
            return None
        if row["reactor_account_id"] in self.excluded_account_ids:
            return {**row, "reactor_account_id": self.pseudonym(row["reactor_account_id"]), "payload": "{}"}
        return row


def purge_excluded(conn: duckdb.DuckDBPyConnection, gate: PrivacyGate) -> dict[str, int]:
    """Apply the gate to rows landed before someone opted out (or withdrew consent)."""
    ids = sorted(gate.excluded_account_ids)
    if not ids:
        return {}
    n = gate.network
    counts = {}
    conn.begin()
    try:
        counts["posts"] = conn.execute(f"delete from raw.{n}_posts where account_id in (select unnest(?))", [ids]).fetchall()[0][0]
        counts["accounts"] = conn.execute(f"delete from raw.{n}_accounts where account_id in (select unnest(?))", [ids]).fetchall()[0][0]
        counts["reactions_to"] = conn.execute(
            f"delete from raw.{n}_reactions where target_account_id in (select unnest(?)) or source_account_id in (select unnest(?))",
            [ids, ids],
        ).fetchall()[0][0]
        pseudonyms = [(i, gate.pseudonym(i)) for i in ids]
        conn.execute("create or replace temp table _pseudonyms (account_id varchar, pseudonym varchar)")
        conn.executemany("insert into _pseudonyms values (?, ?)", pseudonyms)
        counts["reactions_by"] = conn.execute(
            f"""update raw.{n}_reactions as r set reactor_account_id = p.pseudonym, payload = '{{}}'
                from _pseudonyms as p where r.reactor_account_id = p.account_id"""
        ).fetchall()[0][0]
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return counts


def purge_platform(conn: duckdb.DuckDBPyConnection) -> None:
    """Opted-out profiles keep only their id and the opt-out itself; their +K gives and topic edits go."""
    conn.begin()
    try:
        opted_out = "select person_id from raw.platform_profiles where opted_out"
        conn.execute(f"delete from raw.platform_kplus where giver_person_id in ({opted_out}) or recipient_person_id in ({opted_out})")
        conn.execute(f"delete from raw.platform_topic_edits where person_id in ({opted_out}) or editor_person_id in ({opted_out})")
        conn.execute(
            "update raw.platform_profiles set display_name = null, birth_date = null, location = null, payload = '{}' "
            "where opted_out and (display_name is not null or birth_date is not null or location is not null)"
        )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
