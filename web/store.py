"""Every read the site and the API make of the serving snapshot, as plain SQL on one cursor.

Each query is filtered by its key (a person, a topic, a campaign) or bounded by a limit, so a page
never loads a whole table. People are always joined to `people`: a row naming someone who is not
in it (which the snapshot should never hold) is dropped rather than linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from web.labels import DISCOUNT_ORDER, SUBSCORE_ORDER


@dataclass(frozen=True)
class Meta:
    version: str
    as_of: date
    formula_version: str
    history_days: int


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list | tuple = ()) -> list[dict[str, Any]]:
    cur.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _one(cur: duckdb.DuckDBPyConnection, sql: str, params: list | tuple = ()) -> dict[str, Any] | None:
    rows = _rows(cur, sql, params)
    return rows[0] if rows else None


def meta(cur: duckdb.DuckDBPyConnection) -> Meta:
    row = _one(cur, "select version, as_of, formula_version, history_days from meta limit 1")
    if row is None:  # a published snapshot always has its meta row; an empty one is a broken build
        raise LookupError("the snapshot has no meta row")
    return Meta(**row)


def person(cur, person_id: str) -> dict | None:
    return _one(
        cur,
        "select person_id, display_name, is_registered, score, previous_score, delta, rank"
        " from people where person_id = ?",
        [person_id],
    )


def handles(cur, person_id: str) -> list[dict]:
    return _rows(cur, "select network, handle from handles where person_id = ? order by network, handle", [person_id])


def history(cur, person_id: str) -> list[dict]:
    return _rows(cur, "select day, score from score_history where person_id = ? order by day", [person_id])


def subscores(cur, person_id: str) -> list[dict]:
    return _rows(
        cur,
        "select network, subscore, value, points from subscores where person_id = ? order by network, subscore",
        [person_id],
    )


def subscore_points(rows: list[dict]) -> dict[str, float]:
    """Points per subscore (reach, amplification, network impact), summed over networks."""
    out = dict.fromkeys(SUBSCORE_ORDER, 0.0)
    for r in rows:
        out[r["subscore"]] = out.get(r["subscore"], 0.0) + r["points"]
    return out


def network_points(rows: list[dict]) -> list[dict]:
    """Each network's contribution in points, and its split by subscore; biggest first."""
    nets: dict[str, dict] = {}
    for r in rows:
        net = nets.setdefault(
            r["network"], {"network": r["network"], "points": 0.0, **dict.fromkeys(SUBSCORE_ORDER, 0.0)}
        )
        net["points"] += r["points"]
        net[r["subscore"]] = net.get(r["subscore"], 0.0) + r["points"]
    return sorted(nets.values(), key=lambda n: (-n["points"], n["network"]))


def reasons(cur, person_id: str) -> list[dict]:
    return _rows(
        cur,
        "select rank, network, subscore, points from score_reasons where person_id = ? order by rank",
        [person_id],
    )


def discounts(cur, person_id: str) -> list[dict]:
    """The points each discount took from the person's score (none under a formula without them)."""
    order = {kind: i for i, kind in enumerate(DISCOUNT_ORDER)}
    rows = _rows(cur, "select kind, points from score_discounts where person_id = ? order by kind", [person_id])
    return sorted(rows, key=lambda r: (order.get(r["kind"], len(order)), r["kind"]))


def kplus_points(cur, person_id: str) -> float:
    """Points accepted +K added to the score (0: none, or a formula without +K)."""
    row = _one(cur, "select sum(points) as points from score_kplus where person_id = ?", [person_id])
    return float(row["points"] or 0.0) if row else 0.0


def person_topics(cur, person_id: str) -> list[dict]:
    return _rows(
        cur,
        """select pt.topic_slug, t.name, pt.evidence, pt.is_expert, pt.person_rank, pt.kplus_90d
           from person_topics pt left join topics t on t.slug = pt.topic_slug
           where pt.person_id = ? order by pt.person_rank nulls last, pt.topic_slug""",
        [person_id],
    )


def sashes_by_person(cur) -> dict[str, list[dict]]:
    """Every sash of the snapshot, by person: the few top rows of each board (a sash is the top of a
    leaderboard), read once per snapshot version, because the leaderboards table is ordered by topic
    and a per-person filter on it would scan it whole on every profile."""
    out: dict[str, list[dict]] = {}
    for row in _rows(
        cur,
        """select tl.person_id, tl.topic_slug as slug, t.name, tl.sash, tl.rank_influence, tl.rank_kplus
           from topic_leaderboards tl left join topics t on t.slug = tl.topic_slug
           where tl.sash is not null and tl.sash <> 'none'
           order by tl.person_id, tl.rank_influence nulls last, tl.topic_slug""",
    ):
        out.setdefault(row.pop("person_id"), []).append(row)
    return out


def sashes(cur, person_id: str) -> list[dict]:
    """One person's sashes, by a filter on the whole leaderboards table (profiles use the cached
    `sashes_by_person` instead)."""
    return _rows(
        cur,
        """select tl.topic_slug as slug, t.name, tl.sash, tl.rank_influence, tl.rank_kplus
           from topic_leaderboards tl left join topics t on t.slug = tl.topic_slug
           where tl.person_id = ? and tl.sash is not null and tl.sash <> 'none'
           order by tl.rank_influence nulls last, tl.topic_slug""",
        [person_id],
    )


def influence(cur, person_id: str, direction: str, limit: int = 50) -> list[dict]:
    return _rows(
        cur,
        """select i.rank, i.other_person_id as person_id, p.display_name, p.score, i.flow
           from influence i join people p on p.person_id = i.other_person_id
           where i.person_id = ? and i.direction = ? order by i.rank limit ?""",
        [person_id, direction, limit],
    )


def influence_both(cur, person_id: str, limit: int = 50) -> dict[str, list[dict]]:
    """Who influences the person and whom they influence, strongest first, in one read."""
    out: dict[str, list[dict]] = {"influences": [], "influenced_by": []}
    rows = _rows(
        cur,
        """select i.direction, i.rank, i.other_person_id as person_id, p.display_name, p.score, i.flow
           from influence i join people p on p.person_id = i.other_person_id
           where i.person_id = ? order by i.direction, i.rank""",
        [person_id],
    )
    for row in rows:
        bucket = out.setdefault(row.pop("direction"), [])
        if len(bucket) < limit:
            bucket.append(row)
    return out


def leaderboard(cur, limit: int, offset: int = 0) -> list[dict]:
    return _rows(
        cur,
        """select l.rank, l.person_id, p.display_name, l.score
           from leaderboard l join people p on p.person_id = l.person_id
           order by l.rank, l.person_id limit ? offset ?""",
        [limit, offset],
    )


def leaderboard_size(cur) -> int:
    return cur.execute("select count(*) from leaderboard").fetchone()[0]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(cur, q: str, limit: int = 50) -> list[dict]:
    """People whose name or handle contains `q` (case-insensitive), best ranked first."""
    needle = q.strip().lower()
    if not needle:
        return []
    return _rows(
        cur,
        """select person_id, display_name, score, rank from people
           where search_text like ? escape '\\' order by rank, person_id limit ?""",
        [f"%{_like_escape(needle)}%", limit],
    )


def topic(cur, slug: str) -> dict | None:
    return _one(cur, "select slug, name from topics where slug = ?", [slug])


def topic_parents(cur, slug: str) -> list[dict]:
    return _rows(
        cur,
        """select t.slug, t.name from topic_edges e join topics t on t.slug = e.parent_slug
           where e.child_slug = ? order by t.name, t.slug""",
        [slug],
    )


def topic_children(cur, slug: str) -> list[dict]:
    return _rows(
        cur,
        """select t.slug, t.name from topic_edges e join topics t on t.slug = e.child_slug
           where e.parent_slug = ? order by t.name, t.slug""",
        [slug],
    )


def topic_board(cur, slug: str, limit: int = 100) -> list[dict]:
    return _rows(
        cur,
        """select tl.rank_influence, tl.rank_kplus, tl.person_id, p.display_name, tl.topic_score,
                  tl.kplus_count, nullif(tl.sash, 'none') as sash
           from topic_leaderboards tl join people p on p.person_id = tl.person_id
           where tl.topic_slug = ? order by tl.rank_influence nulls last, tl.person_id limit ?""",
        [slug, limit],
    )


def topic_kplus(cur, slug: str, limit: int = 20) -> list[dict]:
    return _rows(
        cur,
        """select k.rank, k.person_id, p.display_name, k.gives_90d
           from topic_kplus k join people p on p.person_id = k.person_id
           where k.topic_slug = ? order by k.rank, k.person_id limit ?""",
        [slug, limit],
    )


def topics_index(cur) -> list[dict]:
    return _rows(
        cur,
        """select t.slug, t.name, coalesce(b.people, 0) as people
           from topics t left join (select topic_slug, count(*) as people from topic_leaderboards
                                    group by topic_slug) b on b.topic_slug = t.slug
           order by lower(t.name), t.slug""",
    )


PERK_COLUMNS = (
    "campaign_id, brand, title, topics, min_score, locations, starts_on, ends_on, capacity, running, qualifying"
)


def perks(cur) -> list[dict]:
    return _rows(cur, f"select {PERK_COLUMNS} from perks order by running desc, starts_on desc nulls last, campaign_id")


def perk(cur, campaign_id: str) -> dict | None:
    return _one(cur, f"select {PERK_COLUMNS} from perks where campaign_id = ?", [campaign_id])


def topic_names(cur, slugs: list[str]) -> dict[str, str]:
    if not slugs:
        return {}
    return {r["slug"]: r["name"] for r in _rows(cur, "select slug, name from topics where slug in ?", [slugs])}
