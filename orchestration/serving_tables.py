"""The serving snapshot's contents, read from the warehouse: what the site and the API show.

All of it is one as-of day (the latest the active formula scored) of one formula version, and
only about people who may be shown: the registry's unmeasured people (opted out, minors on that
day, private without consent, erased) and unregistered accounts whose network marks them private
are in no table, on either side of any pair. SQL runs in the warehouse connection with the new
snapshot file attached as `snapshot`; the few Python-computed tables (points, reasons) use the
domain's own functions, so the site shows the numbers the marts hold.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from domain.ontology import load_default_ontology
from domain.score import (
    DISCOUNT_KINDS,
    score_reasons,
    split_subscore_column,
    subscore_columns,
    subscore_points,
)
from web.snapshot import Published, publish_attached, read_pointer, serving_dir

from .forgetting import WarehousePrivacy
from .formulas import load_formula
from .warehouse import table_exists

HISTORY_DAYS = 90
TOP_KPLUS = 10
# Marts a run may not have written yet (a world with no +K, no campaign or no topic so far): read as empty
OPTIONAL = {
    "marts.score_changes": "person_id varchar, day date, formula_version varchar, previous_score double, delta double",
    "marts.person_topics": "person_id varchar, topic_slug varchar, evidence double, is_expert boolean, "
    "person_rank bigint, day date",
    "marts.kplus_ledger": "recipient_person_id varchar, topic_slug varchar, given_day date",
    "marts.influence_graph": "person_id varchar, day date, formula_version varchar, direction varchar, rank bigint, "
    "other_person_id varchar, flow double",
    "marts.topic_leaderboards": "day date, topic_slug varchar, person_id varchar, topic_score double, "
    "kplus_count bigint, rank_influence bigint, rank_kplus bigint, sash varchar, formula_version varchar",
    "marts.leaderboard": "day date, formula_version varchar, rank bigint, person_id varchar, score double",
    "marts.perk_eligibility": "campaign_id varchar, person_id varchar, day date, formula_version varchar",
}


class ServingTables:
    """Fills the attached snapshot `snapshot` from the warehouse for one formula version."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, formula_version: str, salt: str = ""):
        self.conn, self.version, self.salt = conn, formula_version, salt

    def as_of(self) -> date | None:
        """The latest day scored by this formula version (None: nothing scored yet)."""
        if not table_exists(self.conn, "marts.scores"):
            return None
        (day,) = self.conn.execute(
            "select max(day) from marts.scores where formula_version = ?", [self.version]
        ).fetchone()
        return day

    def source(self, table: str) -> str:
        """`table`, or an empty stand-in with its columns when no run has written it yet."""
        if table_exists(self.conn, table):
            return table
        stand_in = "serving_missing_" + table.split(".")[1]
        self.conn.execute(f"create temp table if not exists {stand_in} ({OPTIONAL[table]})")
        return stand_in

    def fill(self, as_of: date) -> dict:
        self._shown(as_of)
        self._people(as_of)
        for step in (
            self._history,
            self._subscores_and_reasons,
            self._topics,
            self._influence,
            self._boards,
            self._perks,
        ):
            step(as_of)
        (people,) = self.conn.execute("select count(*) from snapshot.people").fetchone()
        return {
            "as_of": as_of.isoformat(),
            "formula_version": self.version,
            "history_days": HISTORY_DAYS,
            "people": people,
        }

    # ------------------------------------------------------------------ who may be shown
    def _shown(self, as_of: date) -> None:
        hidden = WarehousePrivacy(self.conn, self.salt).unmeasured(as_of).person_ids
        self.conn.register("serving_hidden", pd.DataFrame({"person_id": sorted(hidden)}, dtype=object))
        self.conn.execute(
            """
            create or replace temp table serving_shown as
            with private_accounts as (  -- accounts their network marks private, by its latest word
                select account_key from intermediate.int_network_accounts
                qualify row_number() over (partition by account_key order by snapshot_day desc) = 1
                    and coalesce(is_private, false)
            )
            select person_id from marts.scores where formula_version = ? and day = ?
            except select person_id from serving_hidden
            except select i.person_id from intermediate.int_identity as i  -- registered ones: the registry decides
                join private_accounts using (account_key) where not i.is_registered
            """,
            [self.version, as_of],
        )
        self.conn.unregister("serving_hidden")

    # ------------------------------------------------------------------ people
    def _people(self, as_of: date) -> None:
        self.conn.execute(
            f"""
            insert into snapshot.people
            with names as (
                select person_id, string_agg(distinct lower(handle), ' ' order by lower(handle)) as handles
                from intermediate.int_identity where handle is not null group by person_id
            )
            select s.person_id, coalesce(d.display_name, s.person_id), coalesce(d.is_registered, false),
                   s.score, c.previous_score, c.delta,
                   row_number() over (order by s.score desc, s.person_id),
                   lower(coalesce(d.display_name, '')) || ' ' || coalesce(n.handles, '') || ' ' || lower(s.person_id)
            from marts.scores as s
            join serving_shown using (person_id)
            left join marts.dim_persons as d using (person_id)
            left join {self.source("marts.score_changes")} as c
                on c.person_id = s.person_id and c.day = s.day and c.formula_version = s.formula_version
            left join names as n on n.person_id = s.person_id
            where s.formula_version = ? and s.day = ?
            """,
            [self.version, as_of],
        )
        self.conn.execute(
            """
            insert into snapshot.handles
            select distinct person_id, network, handle from intermediate.int_identity
            join serving_shown using (person_id) where handle is not null order by all
            """
        )

    def _history(self, as_of: date) -> None:
        self.conn.execute(
            """
            insert into snapshot.score_history
            select person_id, day, score from marts.scores join serving_shown using (person_id)
            where formula_version = ? and day > ? and day <= ? order by person_id, day
            """,
            [self.version, as_of - timedelta(days=HISTORY_DAYS), as_of],
        )

    def _scores_on(self, day: date) -> pd.DataFrame:
        return self.conn.execute(
            "select * from marts.scores where formula_version = ? and day = ? and person_id in"
            " (select person_id from serving_shown) order by person_id",
            [self.version, day],
        ).df()

    def _subscores_and_reasons(self, as_of: date) -> None:
        today, yesterday = self._scores_on(as_of), self._scores_on(as_of - timedelta(days=1))
        columns = subscore_columns(today)
        points = subscore_points(today)
        long = pd.DataFrame(
            {
                "person_id": today["person_id"].repeat(len(columns)).to_numpy(),
                "column": columns * len(today),
                "value": today[columns].to_numpy(dtype=float, na_value=0.0).ravel(),
                "points": points.to_numpy().ravel(),
            }
        )
        long = long[long["value"] != 0]
        split = [split_subscore_column(c) for c in long["column"]]
        subscores = pd.DataFrame(
            {
                "person_id": long["person_id"].to_numpy(),
                "network": [n for n, _ in split],
                "subscore": [s for _, s in split],
                "value": long["value"].to_numpy(),
                "points": long["points"].to_numpy(),
            }
        )
        self._insert("subscores", subscores)
        self._insert("score_reasons", score_reasons(today, yesterday) if len(today) else pd.DataFrame())
        self._insert("score_discounts", discounts(today))
        self._insert("score_kplus", kplus_points(today))

    # ------------------------------------------------------------------ topics and +K
    def _topics(self, as_of: date) -> None:
        ontology = load_default_ontology()
        self._insert("topics", ontology.topics[["slug", "display_name"]].rename(columns={"display_name": "name"}))
        self._insert("topic_edges", ontology.edges[["parent_slug", "child_slug"]])
        window = [as_of - timedelta(days=HISTORY_DAYS - 1), as_of]
        self.conn.execute(
            f"""
            create or replace temp table serving_kplus as
            select recipient_person_id as person_id, topic_slug, count(*) as gives
            from {self.source("marts.kplus_ledger")} where given_day between ? and ? group by all
            """,
            window,
        )
        self.conn.execute(
            f"""
            insert into snapshot.person_topics
            select t.person_id, t.topic_slug, t.evidence, t.is_expert, t.person_rank, coalesce(k.gives, 0)
            from {self.source("marts.person_topics")} as t join serving_shown using (person_id)
            left join serving_kplus as k on k.person_id = t.person_id and k.topic_slug = t.topic_slug
            where t.day = ? order by t.person_id, t.person_rank, t.topic_slug
            """,
            [as_of],
        )
        self.conn.execute(
            """
            insert into snapshot.topic_kplus
            select topic_slug, person_id, gives,
                   row_number() over (partition by topic_slug order by gives desc, person_id) as rank
            from serving_kplus join serving_shown using (person_id)
            qualify rank <= ? order by topic_slug, rank
            """,
            [TOP_KPLUS],
        )

    def _influence(self, as_of: date) -> None:
        self.conn.execute(
            f"""
            insert into snapshot.influence
            select g.person_id, g.direction, g.rank, g.other_person_id, g.flow
            from {self.source("marts.influence_graph")} as g
            join serving_shown as me on me.person_id = g.person_id
            join serving_shown as other on other.person_id = g.other_person_id
            where g.formula_version = ? and g.day = ? order by g.person_id, g.direction, g.rank
            """,
            [self.version, as_of],
        )

    def _boards(self, as_of: date) -> None:
        self.conn.execute(
            f"""
            insert into snapshot.topic_leaderboards
            select topic_slug, person_id, topic_score, kplus_count, rank_influence, rank_kplus, sash
            from {self.source("marts.topic_leaderboards")} join serving_shown using (person_id)
            where formula_version = ? and day = ? order by topic_slug, rank_influence nulls last, person_id
            """,
            [self.version, as_of],
        )
        self.conn.execute(
            f"""
            insert into snapshot.leaderboard
            select rank, person_id, score from {self.source("marts.leaderboard")} join serving_shown using (person_id)
            where formula_version = ? and day = ? order by rank
            """,
            [self.version, as_of],
        )

    def _perks(self, as_of: date) -> None:
        """Requirements and counts: brands never see who qualifies."""
        self.conn.execute(
            f"""
            insert into snapshot.perks
            with qualifying as (
                select campaign_id, count(distinct person_id) as people from {self.source("marts.perk_eligibility")}
                where formula_version = ? and day = ? group by all
            )
            select c.campaign_id, c.brand, c.title, coalesce(c.topics, []), c.min_score,
                   coalesce(c.locations, []), c.starts_on, c.ends_on, c.capacity,
                   coalesce(c.starts_on <= ? and ? <= c.ends_on, false), coalesce(q.people, 0)
            from staging.stg_platform__campaigns as c left join qualifying as q using (campaign_id)
            order by c.campaign_id
            """,
            [self.version, as_of, as_of, as_of],
        )

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        self.conn.register("serving_rows", frame)
        columns = ", ".join(frame.columns)
        self.conn.execute(f"insert into snapshot.{table} ({columns}) select {columns} from serving_rows")
        self.conn.unregister("serving_rows")


def discounts(scores: pd.DataFrame) -> pd.DataFrame:
    """The points each discount kind took from each person's score (v2's `<kind>_discount_points`),
    one row per person and kind that took any: a formula without discounts (v1) gives none."""
    kinds = [k for k in DISCOUNT_KINDS if f"{k}_discount_points" in scores]
    taken = scores[[f"{k}_discount_points" for k in kinds]].to_numpy(dtype=float, na_value=0.0)
    person, kind = np.nonzero(taken > 0)
    return pd.DataFrame(
        {
            "person_id": scores["person_id"].to_numpy()[person],
            "kind": np.asarray(kinds, dtype=object)[kind],
            "points": taken[person, kind],
        }
    )


def kplus_points(scores: pd.DataFrame) -> pd.DataFrame:
    """The points accepted +K added to each score it moved (`kplus_points`, a formula with +K on):
    shown beside the subscores, whose points add up to the rest of the score."""
    points = scores.get("kplus_points", pd.Series(0.0, index=scores.index)).to_numpy(dtype=float, na_value=0.0)
    return pd.DataFrame({"person_id": scores["person_id"].to_numpy()[points > 0], "points": points[points > 0]})


def publish_serving_snapshot(
    conn: duckdb.DuckDBPyConnection, salt: str, directory: Path | None = None
) -> Published | None:
    """Publish the active formula's latest scored day (None: nothing scored yet). Users see the
    active version only: a candidate backfilled by `rescore` is never published."""
    tables = ServingTables(conn, load_formula().version, salt)
    as_of = tables.as_of()
    if as_of is None:
        return None
    return publish_attached(directory or serving_dir(), conn, lambda: tables.fill(as_of))


def republish_if_published(conn: duckdb.DuckDBPyConnection, salt: str) -> Published | None:
    """After an erasure: the site forgets them now, not at the next daily run (nothing to do when
    no snapshot was ever published)."""
    return publish_serving_snapshot(conn, salt) if read_pointer(serving_dir()) else None
