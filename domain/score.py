"""The influence score: per-network subscores, accumulation across networks, calibration.

Every strength term is non-negative and non-decreasing in engagement, and networks add up, so
more engagement never lowers a score and a new network can only raise it. The calibrated scale
is logarithmic in strength: each further point needs proportionally more influence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from .formula import Formula
from .kplus import in_window, kplus_points
from .privacy import minors_on
from .rings import Discounts

SUBSCORES = ("reach", "amplification", "network_impact")
# A v2 discount's kinds: score columns `<kind>_discount_points` (points the discount took away).
ENGAGEMENT_DISCOUNTS = ("ring", "indiscriminate")
# Every discount kind a score row may carry, and the subscore name its move takes among the
# reasons (network "all": a discount is the person's, not one network's), and how a reason words it.
DISCOUNT_KINDS = (*ENGAGEMENT_DISCOUNTS, "kplus_clique")
DISCOUNT_REASONS = {
    "ring": "ring_discount",
    "indiscriminate": "indiscriminate_reactors",
    "kplus_clique": "kplus_clique",
}
DISCOUNT_NAMES = {
    "ring_discount": "engagement-ring discount",
    "indiscriminate_reactors": "indiscriminate-reactor discount",
    "kplus_clique": "+K-clique discount",
}
# +K's points (`kplus_points`, when the formula enables +K): added after calibration, so not part of
# any subscore; its move is a reason of its own (network "all", subscore "kplus").
KPLUS_REASON, KPLUS_NAME = "kplus", "accepted +K"


def decay(age_days: np.ndarray | pd.Series, half_life_days: float) -> np.ndarray:
    return np.power(0.5, np.asarray(age_days, dtype=float) / float(half_life_days))


def selectivity_weight(reactions_given: np.ndarray | pd.Series, exponent: float) -> np.ndarray:
    """A reactor who hands out many reactions in a day gives each one less weight."""
    return 1.0 / np.power(np.maximum(np.asarray(reactions_given, dtype=float), 1.0), exponent)


def day_numbers(days) -> np.ndarray:
    """Dates (date objects, strings or datetime64) -> days since 1970-01-01."""
    return pd.to_datetime(pd.Series(days)).to_numpy().astype("datetime64[D]").astype(np.int64)


DENSE_KEYS = 1 << 26  # sorted_unique marks a key space up to this size (256 MB of ranks) instead of sorting


def sorted_unique(values: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) of non-negative integer `values` below `space`, the uniques sorted: what
    `pd.factorize(values, sort=True)` gives, by marking the key space instead of sorting when it is
    small enough (a window's persons x days, or persons x topics)."""
    values = np.asarray(values, dtype=np.int64)
    if space > DENSE_KEYS:
        codes, uniques = pd.factorize(values, sort=True)
        return codes, uniques
    present = np.zeros(space, dtype=bool)
    present[values] = True
    uniques = np.flatnonzero(present)
    rank = np.empty(space, dtype=np.int64 if len(uniques) > np.iinfo(np.int32).max else np.int32)
    rank[uniques] = np.arange(len(uniques))
    return rank[values].astype(np.intp), uniques.astype(np.int64)


def sorted_codes(*columns: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes of `columns` end to end over their sorted distinct values (a null -1), and those values
    as strings: `pd.factorize(..., sort=True)`. Categoricals are numbered through their codes,
    never their millions of values."""
    if all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
        categories = columns[0].cat.categories
        if categories.is_monotonic_increasing and all(c.cat.categories.equals(categories) for c in columns):
            raw = np.concatenate([c.cat.codes.to_numpy(dtype=np.int64) for c in columns])
            codes, known = np.full(len(raw), -1, dtype=np.intp), raw >= 0
            codes[known], used = sorted_unique(raw[known], len(categories))
            return codes, pd.Index(categories[used]).astype("str")
        joined = pd.api.types.union_categoricals([c.array for c in columns], sort_categories=True)
        codes, found = pd.factorize(joined, sort=True)
        return codes, pd.Index(found.astype("str"))
    codes, found = pd.factorize(pd.concat([c.astype("str") for c in columns], ignore_index=True), sort=True)
    return codes, pd.Index(found)


def _runs_numbered(keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(keys, return_inverse=True)` given `order`, a permutation that sorts `keys`."""
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(keys), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def _pagerank(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    n: int,
    damping: float,
    tolerance: float,
    max_iterations: int,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Unnormalised PageRank over edges src -> dst of persons 0..n-1: (rank, each edge's share of
    its source, iterations). `start` (e.g. yesterday's ranks) only shortens the walk to the same
    fixed point; without it every rank starts at 1."""
    out_weight = np.bincount(src, weights=weight, minlength=n)
    # a reactor whose every edge is discounted away passes nothing on, like one who never reacts
    share = np.divide(weight, out_weight[src], out=np.zeros(len(weight)), where=out_weight[src] > 0)
    transition_t = sparse.csr_matrix((share, (dst, src)), shape=(n, n))
    rank = np.ones(n) if start is None else np.asarray(start, dtype=float).copy()
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (the count is returned)
        updated = (1.0 - damping) + damping * (transition_t @ rank)
        converged = np.abs(updated - rank).sum() < tolerance * n
        rank = updated
        if converged:
            break
    return rank, share, iterations


@dataclass(frozen=True)
class DayFlows:
    """Influence flow along each reactor -> author edge of one as-of day's window.

    Persons and networks are integer codes into `persons` / `networks` (both sorted), edges in
    (reactor, target, network) order.
    """

    persons: pd.Index
    networks: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    net: np.ndarray
    flow: np.ndarray
    ranks: pd.Series | None = None  # person_id -> PageRank of everyone in the window: the next day's start
    iterations: int = 0
    discounted: EdgeDiscounts | None = None  # per edge, when the formula discounts engagement (v2)

    def network_flow(self, person_id: pd.Series, network: pd.Series) -> np.ndarray:
        """Flow into each given (person, network), 0 where none flows: the network-impact input."""
        return self._inflow(self.flow, person_id, network)

    def _inflow(self, values: np.ndarray, person_id: pd.Series, network: pd.Series) -> np.ndarray:
        """`values` (one per edge) summed into each given (person, network) as target, 0 where none."""
        if not len(values):
            return np.zeros(len(person_id))
        n_networks = max(len(self.networks), 1)
        inflow = np.bincount(
            self.dst.astype(np.int64) * n_networks + self.net,
            weights=values,
            minlength=len(self.persons) * n_networks,
        )
        person, net = self.persons.get_indexer(person_id), pd.Index(self.networks).get_indexer(network)
        known = (person >= 0) & (net >= 0)
        return np.where(known, inflow[np.where(known, person * n_networks + net, 0)], 0.0)

    def removed(self, person_id: pd.Series, network: pd.Series) -> dict[str, np.ndarray] | None:
        """What the discounts take from each given (person, network) as target, None without
        discounts: `reach`, `swe`, `reactions` (the discounted share of the decayed engaged
        audience, selectivity-weighted engagement and decayed reactions: the features are these
        per-edge sums, so subtracting gives the features without the discounted share), the same
        per kind (`ring_reach`, ...), `pre_flow` (the undiscounted PageRank's inflow) and per kind
        `<kind>_flow` (undiscounted inflow times the kind's discount, to split a lost flow)."""
        e = self.discounted
        if e is None:
            return None
        out = {"pre_flow": self._inflow(e.pre_flow, person_id, network)}
        for kind in ENGAGEMENT_DISCOUNTS:
            d = getattr(e, kind)
            for quantity in ("reach", "swe", "reactions"):
                out[f"{kind}_{quantity}"] = self._inflow(d * getattr(e, quantity), person_id, network)
            out[f"{kind}_flow"] = self._inflow(d * e.pre_flow, person_id, network)
            out[f"{kind}_day_flow"] = np.full(len(person_id), float((d * e.pre_flow).sum()))
        for quantity in ("reach", "swe", "reactions"):
            out[quantity] = sum(out[f"{kind}_{quantity}"] for kind in ENGAGEMENT_DISCOUNTS)
        return out


@dataclass(frozen=True)
class EdgeDiscounts:
    """Per live edge of a DayFlows (same order): its discount split by kind (the larger of the ring
    and indiscriminate discounts d applies, d = ring + indiscriminate, all of it to the kind that
    set it) and the edge's shares of the target's features, to subtract d times them."""

    ring: np.ndarray
    indiscriminate: np.ndarray
    reach: np.ndarray  # 0.5^(age of the edge's last day / half-life): its reactor's term of the engaged audience
    swe: np.ndarray  # selectivity-weighted, decayed engagement (the edge weight)
    reactions: np.ndarray  # decayed reaction count
    pre_flow: np.ndarray  # flow along the edge of the undiscounted PageRank

    @property
    def total(self) -> np.ndarray:
        return self.ring + self.indiscriminate


@dataclass(frozen=True)
class EdgeDays:
    """Engagement collapsed to one row per (reactor -> target edge, network, day): the reactions
    along it that day, all the reactions its reactor gave that day (its selectivity), and the posts
    among them it reacted to first (see `Warehouse.window_events`' new_post; None without).

    Persons and networks are codes into `persons` / `networks`, in any order and possibly with
    names no row uses (a memo's numbering)."""

    persons: pd.Index
    networks: pd.Index
    reactor: np.ndarray
    target: np.ndarray
    network: np.ndarray
    day: np.ndarray  # days since 1970-01-01
    reactions: np.ndarray
    reactor_reactions: np.ndarray
    posts_reacted: np.ndarray | None = None

    @classmethod
    def from_events(cls, events: pd.DataFrame) -> EdgeDays:
        """`events` (reactor_person_id, target_person_id, network, event_day[, new_post]) collapsed."""
        codes, persons = sorted_codes(events["reactor_person_id"], events["target_person_id"])
        net, networks = pd.factorize(events["network"], sort=True)
        src, dst, day = (
            codes[: len(events)].astype(np.int64),
            codes[len(events) :].astype(np.int64),
            day_numbers(events["event_day"]),
        )
        n_persons, n_networks = max(len(persons), 1), max(len(networks), 1)
        first_day = int(day.min()) if len(day) else 0
        day_at = day - first_day
        span = int(day_at.max()) + 1 if len(day) else 1
        reactor_day, _ = sorted_unique(src * span + day_at, n_persons * span)
        keys, row = np.unique(((src * n_persons + dst) * n_networks + net) * span + day_at, return_inverse=True)
        given = np.zeros(len(keys), dtype=np.int64)
        given[row] = np.bincount(reactor_day)[reactor_day]
        edge = keys // span
        new_post = events["new_post"].to_numpy(dtype=np.int64) if "new_post" in events else None
        return cls(
            persons=persons,
            networks=pd.Index(networks).astype("str"),
            reactor=edge // n_networks // n_persons,
            target=edge // n_networks % n_persons,
            network=edge % n_networks,
            day=keys % span + first_day,
            reactions=np.bincount(row, minlength=len(keys)),
            reactor_reactions=given,
            posts_reacted=None if new_post is None else np.bincount(row, weights=new_post, minlength=len(keys)),
        )


def _sorted_ranks(names: pd.Index, used: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes into `names` -> codes into the sorted names `used` holds (the codes used), and those names."""
    order = np.argsort(np.asarray(names, dtype=object), kind="stable") if len(names) else np.zeros(0, dtype=np.intp)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    codes, present = sorted_unique(rank[used], max(len(names), 1))
    return codes, pd.Index(np.asarray(names, dtype=object)[order[present]]).astype("str")


def _added_in_turn(value: np.ndarray, times: np.ndarray) -> np.ndarray:
    """`value` added to 0.0 `times` (>= 1) times in turn: the bits np.bincount's weighted sum gives
    for `times` equal terms, so a collapsed row weighs exactly what its events summed one by one did."""
    total, left, added = value.copy(), np.flatnonzero(times > 1), 1  # 0.0 + value is value
    while len(left):
        total[left] += value[left]
        added += 1
        left = left[times[left] > added]
    return total


def _in_edge_order(rows: EdgeDays) -> EdgeDays:
    """The rows as EngagementEvents keeps them: persons and networks numbered as the sorted names
    used, rows by (day, reactor, target, network)."""
    codes, persons = _sorted_ranks(rows.persons, np.concatenate([rows.reactor, rows.target]))
    net, networks = _sorted_ranks(rows.networks, rows.network)
    src, dst, day = codes[: len(rows.day)], codes[len(rows.day) :], np.asarray(rows.day, dtype=np.int64)
    day_at = day - (int(day.min()) if len(day) else 0)
    span = int(day_at.max()) + 1 if len(day) else 1
    keys = _edge_keys(src, dst, net, len(persons), len(networks))
    # a radix sort of the (few) days; rows stored day by day in name order (the warehouse's memo)
    # are then in edge order already, and only anything else needs the sort of every row's edge
    small_days = day_at.astype(np.int16 if span < 1 << 15 else np.int64)
    by_day = bool(np.all(day_at[1:] >= day_at[:-1]))
    order = slice(None) if by_day else np.argsort(small_days, kind="stable")  # a slice: no copies
    day_ordered, key_ordered = day_at[order], keys[order]
    if not np.all((day_ordered[1:] > day_ordered[:-1]) | (key_ordered[1:] > key_ordered[:-1])):
        by_edge = np.argsort(keys)
        order = by_edge[np.argsort(small_days[by_edge], kind="stable")]
    return EdgeDays(
        persons=persons,
        networks=networks,
        reactor=src[order],
        target=dst[order],
        network=net[order],
        day=day[order],
        reactions=np.asarray(rows.reactions)[order],
        reactor_reactions=np.asarray(rows.reactor_reactions)[order],
        posts_reacted=None if rows.posts_reacted is None else np.asarray(rows.posts_reacted)[order],
    )


def _edge_keys(src: np.ndarray, dst: np.ndarray, net: np.ndarray, n_persons: int, n_networks: int) -> np.ndarray:
    return (src.astype(np.int64) * max(n_persons, 1) + dst) * max(n_networks, 1) + net


class EngagementEvents:
    """A run's engagement events encoded once, so each as-of day's window is a slice, not a re-scan.

    Events collapse to one row per (reactor -> target edge, network, day) carrying that day's
    selectivity-weighted count; a window then only rescales them by recency and sums per edge.
    Persons and edges are numbered in sorted order, so one day's flows come out bit-identical
    whatever span of days the run covers: a backfill equals its daily runs.

    `events` has reactor_person_id, target_person_id, network, event_day, and optionally new_post
    (true on one reaction per reactor, post and day: see `Warehouse.window_events`). `posts`
    (person_id, network, day, posts_made) are the posts made: with new_post, they let the
    indiscriminate-reactor discount see what share of its authors' posts a reactor reacts to.
    Or `events` is an EdgeDays, the same already collapsed (the warehouse's memo of them).
    """

    def __init__(self, events: pd.DataFrame | EdgeDays, formula: Formula, posts: pd.DataFrame | None = None):
        f = formula.section("features")
        self.discounts = Discounts.from_section(formula.config.get("discounts"))
        self.window = int(f["window_days"])
        self.decay_by_age = decay(np.arange(self.window), f["half_life_days"])
        self.pagerank = {k: formula.section("network_influence")[k] for k in ("damping", "tolerance", "max_iterations")}
        rows = _in_edge_order(events if isinstance(events, EdgeDays) else EdgeDays.from_events(events))
        self.persons, self.networks = rows.persons, np.asarray(rows.networks, dtype=object)
        n_persons, n_networks = max(len(self.persons), 1), max(len(self.networks), 1)
        # edges numbered in sorted order: the rows are each day's edges in order, so a stable sort
        # (timsort) merges the days' sorted runs instead of sorting from scratch
        edge_of_row = _edge_keys(rows.reactor, rows.target, rows.network, n_persons, n_networks)
        edge_keys, edge = _runs_numbered(edge_of_row, np.argsort(edge_of_row, kind="stable"))
        self.edge_src = edge_keys // n_networks // n_persons
        self.edge_dst = edge_keys // n_networks % n_persons
        self.edge_net = edge_keys % n_networks
        self.day, self.edge = np.asarray(rows.day, dtype=np.int64), edge
        # a reactor who hands out many reactions in a day gives each one less weight
        given = np.asarray(rows.reactor_reactions, dtype=np.int64)
        per_given = selectivity_weight(np.arange(int(given.max()) + 1 if len(given) else 1), f["selectivity_exponent"])
        weight = per_given[given]  # one weight per count given, looked up
        reactions = np.asarray(rows.reactions, dtype=np.int64)
        self.selectivity = _added_in_turn(weight, reactions)
        self.count = reactions.astype(float)  # reactions per (edge, day)
        self.posts_reacted = self.posts_made = None
        if posts is not None and rows.posts_reacted is not None:
            self.posts_reacted = np.asarray(rows.posts_reacted, dtype=float)
            self.posts_made = self._posts_made(posts, n_networks)

    def _posts_made(self, posts: pd.DataFrame, n_networks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(day, person * n_networks + network, posts) of the events' persons and networks, by day."""
        person = self.persons.get_indexer(posts["person_id"])
        net = pd.Index(self.networks).get_indexer(posts["network"])
        known = (person >= 0) & (net >= 0)
        day = day_numbers(posts["day"])[known]
        order = np.argsort(day, kind="stable")
        key = (person[known].astype(np.int64) * n_networks + net[known])[order]
        return day[order], key, posts["posts_made"].to_numpy(dtype=float)[known][order]

    def edge_posts(self, as_of: date) -> tuple[np.ndarray, np.ndarray] | None:
        """Per edge in the window ending `as_of`: posts its reactor reacted to, and posts its target made
        on its network; None without post counts."""
        if self.posts_made is None:
            return None
        lo, hi, _ = self._window(as_of)
        reacted = np.bincount(self.edge[lo:hi], weights=self.posts_reacted[lo:hi], minlength=len(self.edge_src))
        day, key, made = self.posts_made
        today = day_numbers([as_of])[0]
        p_lo = np.searchsorted(day, today - self.window + 1, side="left")
        p_hi = np.searchsorted(day, today, side="right")
        n_networks = max(len(self.networks), 1)
        per_target = np.bincount(key[p_lo:p_hi], weights=made[p_lo:p_hi], minlength=len(self.persons) * n_networks)
        return reacted, per_target[self.edge_dst * n_networks + self.edge_net]

    def _window(self, as_of: date) -> tuple[int, int, np.ndarray]:
        """(lo, hi, decay of each (edge, day) in lo:hi): the (edge, day) rows of the window ending `as_of`."""
        today = day_numbers([as_of])[0]
        lo = np.searchsorted(self.day, today - self.window + 1, side="left")
        hi = np.searchsorted(self.day, today, side="right")
        return lo, hi, self.decay_by_age[today - self.day[lo:hi]]

    def edge_weights(self, as_of: date) -> np.ndarray:
        """Each edge's selectivity- and recency-weighted engagement in the window ending `as_of` (0: none)."""
        lo, hi, recency = self._window(as_of)
        weight = self.selectivity[lo:hi] * recency
        return np.bincount(self.edge[lo:hi], weights=weight, minlength=len(self.edge_src))

    def edge_reach_and_reactions(self, as_of: date) -> tuple[np.ndarray, np.ndarray]:
        """Per edge in the window ending `as_of`: the decay of its last day (its reactor's term of
        the target's decayed engaged audience) and its decayed reaction count."""
        lo, hi, recency = self._window(as_of)
        last = np.zeros(len(self.edge_src))
        np.maximum.at(last, self.edge[lo:hi], recency)
        reactions = np.bincount(self.edge[lo:hi], weights=self.count[lo:hi] * recency, minlength=len(self.edge_src))
        return last, reactions

    @property
    def discounts_engagement(self) -> bool:
        return self.discounts.rings.enabled or self.discounts.indiscriminate.enabled

    def flows(self, as_of: date, start: pd.Series | None = None) -> DayFlows:
        """PageRank over the window's reactor -> author graph, as the flow along each edge.

        `start` (person_id -> rank, e.g. the previous day's `DayFlows.ranks`) warm-starts the
        walk: a window moves by one day, so yesterday's ranks are near today's fixed point; a
        person new to the window starts at 1, as in a cold start."""
        weight = self.edge_weights(as_of)
        live = np.flatnonzero(weight > 0)
        src, dst, w = self.edge_src[live], self.edge_dst[live], weight[live]
        in_window = np.zeros(len(self.persons), dtype=bool)
        in_window[src] = in_window[dst] = True
        local = np.cumsum(in_window) - 1
        members = self.persons[in_window]
        initial = None
        if start is not None and len(start):
            at = pd.Index(start.index).get_indexer(members)
            initial = np.where(at >= 0, start.to_numpy(dtype=float)[np.maximum(at, 0)], 1.0)
        n_members = int(in_window.sum())
        discounted, walked = None, w
        if self.discounts_engagement:
            # discounts depend on the window's edges only, in window-local codes: a backfill's bits are a daily run's
            reach, reactions = self.edge_reach_and_reactions(as_of)
            ring = self.discounts.rings.engagement(local[src], local[dst], w, n_members, counts=reactions[live])
            posts = self.edge_posts(as_of) if self.discounts.indiscriminate.enabled else None
            reacted, made = (None, None) if posts is None else (posts[0][live], posts[1][live])
            indiscriminate = self.discounts.indiscriminate.discounts(
                local[src], local[dst], self.edge_net[live], reacted_posts=reacted, target_posts=made
            )
            d = np.maximum(ring, indiscriminate)
            walked = w * (1.0 - d)
            pre_rank, pre_share, _ = _pagerank(local[src], local[dst], w, n_members, **self.pagerank, start=initial)
            from_ring = ring >= indiscriminate
            discounted = EdgeDiscounts(
                ring=np.where(from_ring, d, 0.0),
                indiscriminate=np.where(from_ring, 0.0, d),
                reach=reach[live],
                swe=w,
                reactions=reactions[live],
                pre_flow=self.pagerank["damping"] * pre_share * pre_rank[local[src]],
            )
        rank, share, iterations = _pagerank(local[src], local[dst], walked, n_members, **self.pagerank, start=initial)
        flow = self.pagerank["damping"] * share * rank[local[src]]
        return DayFlows(
            self.persons,
            self.networks,
            src,
            dst,
            self.edge_net[live],
            flow,
            ranks=pd.Series(rank, index=members, name="rank"),
            iterations=iterations,
            discounted=discounted,
        )


def top_per_group(group: np.ndarray, key: np.ndarray, tie: np.ndarray, top_n: int) -> np.ndarray:
    """Rank 1..top_n of each element within its group by `key` descending, then `tie` ascending
    (0: not in the top). Arrays sorted by group; (group, tie) unique. O(top_n x n), no sort."""
    starts_here = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    starts, member = np.flatnonzero(starts_here), np.cumsum(starts_here) - 1
    rank = np.zeros(len(group), dtype=np.int64)
    remaining = np.ones(len(group), dtype=bool)
    for r in range(1, top_n + 1):
        if not remaining.any():
            break
        k = np.where(remaining, key, -np.inf)
        candidate = remaining & (k == np.maximum.reduceat(k, starts)[member])
        t = np.where(candidate, tie, np.iinfo(np.int64).max)
        chosen = candidate & (t == np.minimum.reduceat(t, starts)[member])
        rank[chosen] = r
        remaining &= ~chosen
    return rank


def _sum_by_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys ascending, the sum of `values` per key); no sort when `keys` already are."""
    if len(keys) and (keys[1:] >= keys[:-1]).all():
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return keys[starts], np.add.reduceat(values, starts)
    distinct, which = np.unique(keys, return_inverse=True)
    return distinct, np.bincount(which, weights=values, minlength=len(distinct))


def influence_graph(flows: DayFlows, top_n: int = 5) -> pd.DataFrame:
    """For each person, the top people they influence (whose reactions carry their influence
    onward) and the top people who influence them, by influence flow across all networks."""
    n_persons = max(len(flows.persons), 1)
    src, dst, flows_along = flows.src, flows.dst, flows.flow
    if flows.discounted is not None:  # an edge discounted away carries no influence: no one to show
        carried = flows_along > 0
        src, dst, flows_along = src[carried], dst[carried], flows_along[carried]
    parts = []
    for direction, person_side, other_side in (
        ("influences", dst, src),
        ("influenced_by", src, dst),
    ):
        pairs, flow = _sum_by_key(person_side.astype(np.int64) * n_persons + other_side, flows_along)
        flow = flow.round(9)  # ranked on the published flow: a tie below 1e-9 is a tie, broken by the other's id
        person, other = pairs // n_persons, pairs % n_persons
        rank = top_per_group(person, flow, other, top_n)
        kept = np.flatnonzero(rank)
        kept = kept[np.argsort(person[kept] * (top_n + 1) + rank[kept], kind="stable")]
        parts.append(
            pd.DataFrame(
                {
                    "person_id": flows.persons.take(person[kept]),
                    "direction": direction,
                    "rank": rank[kept],
                    "other_person_id": flows.persons.take(other[kept]),
                    "flow": flow[kept],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def network_subscores(
    features: pd.DataFrame,
    network_flow: np.ndarray,
    formula: Formula,
    removed: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Reach, amplification and network subscores per (person, network) for one day.

    `removed` (`DayFlows.removed`, v2): the discounted shares of the engaged audience, the
    selectivity-weighted engagement and the decayed reactions, taken off before the subscores."""
    weights = formula.section("subscores")
    df = features.assign(network_flow=network_flow)
    counted = counted_reactions(df, formula)
    posts = _column(df, "decayed_posts")
    audience = df["decayed_engaged_audience"].astype(float).clip(lower=0)
    engagement = df["selectivity_weighted_engagement"].astype(float).clip(lower=0)
    named_rpp = df["reactions_per_post"].astype(float).clip(lower=0)
    if removed is not None:
        audience = (audience - removed["reach"]).clip(lower=0)
        engagement = (engagement - removed["swe"]).clip(lower=0)
        reactions = _column(df, "decayed_reactions")
        lost = np.divide(removed["reactions"], reactions, out=np.zeros(len(df)), where=reactions > 0)
        named_rpp = named_rpp * (1.0 - np.clip(lost, 0.0, 1.0))  # rpp = decayed reactions / decayed posts
    rpp = named_rpp + np.divide(counted, posts, out=np.zeros(len(df)), where=posts > 0)
    df["reach"] = weights["reach"] * audience
    # ratio beats volume: the same engagement spread over fewer posts counts more
    df["amplification"] = weights["amplification"] * (engagement + counted) * (rpp / (1.0 + rpp))
    df["network_impact"] = weights["network_impact"] * df["network_flow"]
    df["strength"] = df[list(SUBSCORES)].sum(axis=1)
    return df


def counted_reactions(features: pd.DataFrame, formula: Formula) -> np.ndarray:
    """Reactions the APIs count but name nobody for (likes, shares), and views, in the formula's
    weights: they can only raise amplification, as nobody behind them adds reach or network. A
    version without an `anonymous` section gives them no weight."""
    weights = formula.config.get("anonymous") or {}
    return weights.get("reaction_weight", 0.0) * _column(features, "decayed_anonymous_reactions") + weights.get(
        "view_weight", 0.0
    ) * _column(features, "decayed_views")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A non-negative feature column, zeros where the frame lacks it (features of an older build)."""
    if name not in frame:
        return np.zeros(len(frame))
    return frame[name].astype(float).fillna(0.0).clip(lower=0).to_numpy()


def calibrate(strength: np.ndarray | pd.Series, calibration: dict) -> np.ndarray:
    """Strength -> 1..100: linear in ln(1 + strength), softly capped so the top is exponentially harder."""
    z = calibration["intercept"] + calibration["slope"] * np.log1p(np.maximum(np.asarray(strength, dtype=float), 0.0))
    cap = calibration["soft_cap_from"]
    head = 100.0 - (100.0 - cap) * np.exp(-(z - cap) / (100.0 - cap))
    return np.clip(np.where(z > cap, head, z), 1.0, 100.0)


def fit_calibration(strength: np.ndarray, target_mean: float, target_p95: float, soft_cap_from: float) -> dict:
    """Fit intercept and slope so the reference population averages `target_mean` with p95 at `target_p95`."""
    x = np.log1p(np.maximum(np.asarray(strength, dtype=float), 0.0))
    spread = max(np.percentile(x, 95) - x.mean(), 1e-9)
    slope0 = (target_p95 - target_mean) / spread
    start = [target_mean - slope0 * x.mean(), slope0]

    def residual(params):
        cal = {"intercept": params[0], "slope": params[1], "soft_cap_from": soft_cap_from}
        s = calibrate(np.expm1(x), cal)
        return [s.mean() - target_mean, np.percentile(s, 95) - target_p95]

    fit = optimize.least_squares(residual, start, bounds=([-200.0, 1e-6], [200.0, 200.0]))
    return {"intercept": float(fit.x[0]), "slope": float(fit.x[1]), "soft_cap_from": soft_cap_from}


def score_day(features: pd.DataFrame, flows: DayFlows, as_of: date, formula: Formula) -> pd.DataFrame:
    """Scores for one as-of day: one row per person, with per-network subscores and contributions.

    `features` are fct_features_90d rows for `as_of`; `flows` the influence flows of the window
    ending `as_of` (`EngagementEvents.flows`). With discounts (v2) the subscores are the discounted
    ones (so subscore points still add up to the score), and `<kind>_discount_points` say how many
    points each kind of discount took away.
    """
    removed = flows.removed(features["person_id"], features["network"])
    network_flow = flows.network_flow(features["person_id"], features["network"])
    per_network = network_subscores(features, network_flow, formula, removed)
    person, persons = pd.factorize(per_network["person_id"], sort=True)
    row_strength = per_network["strength"].to_numpy(dtype=float)
    strength = np.bincount(person, weights=row_strength, minlength=len(persons))
    score = calibrate(strength, formula.section("calibration")).round(2)
    share = np.divide(row_strength, strength[person], out=np.zeros(len(person)), where=strength[person] != 0)
    per_network["contribution"] = share * score[person]  # of the published score: contributions add up to it
    out = pd.DataFrame(
        {
            "person_id": persons,
            "day": pd.Timestamp(as_of).date(),
            "formula_version": formula.version,
            "score": score,
            "strength": strength.round(9),
        }
    )
    networks = per_network["network"].to_numpy(dtype=object)
    for metric in sorted([*SUBSCORES, "contribution"]):  # e.g. bluesky_amplification, mastodon_amplification, ...
        values = per_network[metric].to_numpy(dtype=float)
        for network in sorted(set(networks)):
            mine = networks == network
            out[f"{network}_{metric}"] = np.bincount(person[mine], weights=values[mine], minlength=len(persons)).round(
                9
            )
    if removed is not None:
        pre = network_subscores(features, removed["pre_flow"], formula)
        for column, points in discount_points(pre, per_network, removed, person, len(persons), formula).items():
            out[column] = points
    return out


def discount_points(
    pre: pd.DataFrame,
    post: pd.DataFrame,
    removed: dict[str, np.ndarray],
    person: np.ndarray,
    n_persons: int,
    formula: Formula,
) -> dict[str, np.ndarray]:
    """`<kind>_discount_points` per person: calibrate(strength without discounts) - calibrate(with),
    >= 0 (a person whose flow rose from others' discounts lost nothing), split between the kinds in
    proportion to the strength each removed. A subscore's loss is split by the kinds' shares of what
    was taken from it: reach by the discounted audience, amplification by the discounted engagement,
    network impact by the undiscounted flow along the discounted edges into the person, or, for a
    flow lost upstream (a discounted reactor's reactor), as the day's discounted flow splits."""
    cal = formula.section("calibration")
    per_person = lambda values: np.bincount(person, weights=values, minlength=n_persons)  # noqa: E731
    total = np.maximum(
        calibrate(per_person(pre["strength"].to_numpy(dtype=float)), cal)
        - calibrate(per_person(post["strength"].to_numpy(dtype=float)), cal),
        0.0,
    )
    losses = {s: np.maximum(pre[s].to_numpy(dtype=float) - post[s].to_numpy(dtype=float), 0.0) for s in SUBSCORES}
    by_kind = {}
    for kind in ENGAGEMENT_DISCOUNTS:
        share = {}
        for subscore, quantity in (("reach", "reach"), ("amplification", "swe")):
            taken = removed[quantity]
            share[subscore] = np.divide(removed[f"{kind}_{quantity}"], taken, out=np.zeros(len(taken)), where=taken > 0)
        day_flow = sum(removed[f"{k}_day_flow"] for k in ENGAGEMENT_DISCOUNTS)
        own_flow = sum(removed[f"{k}_flow"] for k in ENGAGEMENT_DISCOUNTS)
        upstream = np.divide(removed[f"{kind}_day_flow"], day_flow, out=np.zeros(len(day_flow)), where=day_flow > 0)
        share["network_impact"] = np.divide(removed[f"{kind}_flow"], own_flow, out=upstream.copy(), where=own_flow > 0)
        by_kind[kind] = per_person(sum(losses[s] * share[s] for s in SUBSCORES))
    lost = sum(by_kind.values())
    split = {kind: np.divide(by_kind[kind], lost, out=np.zeros(n_persons), where=lost > 0) for kind in by_kind}
    return {f"{kind}_discount_points": (total * split[kind]).round(2) for kind in ENGAGEMENT_DISCOUNTS}


def subscore_columns(frame: pd.DataFrame) -> list[str]:
    """The `<network>_<subscore>` columns of a scores frame, in the frame's order."""
    return [c for c in frame.columns if any(c.endswith(f"_{s}") for s in SUBSCORES)]


def split_subscore_column(column: str) -> tuple[str, str]:
    """'bluesky_network_impact' -> ('bluesky', 'network_impact')."""
    subscore = next(s for s in SUBSCORES if column.endswith(f"_{s}"))
    return column[: -len(subscore) - 1], subscore


def subscore_points(scores: pd.DataFrame) -> pd.DataFrame:
    """Each (network, subscore) column of a scores frame in score points: its share of the
    person's strength times their score without +K's points (`kplus_points`, when +K counts). A
    person's points (plus their +K points) add up to their score, and a network's points are its
    contribution, so explanations can be read in the units people see."""
    columns = subscore_columns(scores)
    values = scores[columns].to_numpy(dtype=float, na_value=0.0)
    strength = values.sum(axis=1, keepdims=True)
    share = np.divide(values, strength, out=np.zeros_like(values), where=strength != 0)
    score = scores["score"].to_numpy(dtype=float, na_value=0.0)
    if "kplus_points" in scores:
        score = score - scores["kplus_points"].to_numpy(dtype=float, na_value=0.0)
    points = share * score[:, None]
    return pd.DataFrame(points, columns=columns, index=scores.index)


def discount_columns(*frames: pd.DataFrame) -> list[str]:
    """The `<kind>_discount_points` columns any of `frames` carries, in DISCOUNT_KINDS order."""
    return [f"{k}_discount_points" for k in DISCOUNT_KINDS if any(f"{k}_discount_points" in f for f in frames)]


def score_reasons(today: pd.DataFrame, yesterday: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
    """Why each score changed, in score points: the `top_n` (network, subscore) whose points moved
    most since yesterday (person_id, rank, network, subscore, points). The subscores' moves (and
    +K's, network 'all', subscore 'kplus', when the rows carry `kplus_points`) add up to the delta;
    a subscore someone did not have yesterday (a new person, a new network) moved from 0, and one
    that did not move is no reason.

    When the rows carry `<kind>_discount_points` (v2), each discount is a candidate too (network
    'all', subscore ring_discount | indiscriminate_reactors | kplus_clique), moving by -(today -
    yesterday): a discount that took 4 more points than yesterday is a -4 move. These moves are
    counterfactual, not part of the delta (the subscores are already discounted): without the
    change in the discount the score would have moved this much more. A frame without discount
    columns (v1) gives exactly the subscore reasons."""
    now = subscore_points(today)
    before = subscore_points(yesterday).assign(person_id=yesterday["person_id"].to_numpy())
    before = before.drop_duplicates("person_id").set_index("person_id")
    previous = before.reindex(index=today["person_id"], columns=now.columns).fillna(0.0).to_numpy()
    moves = now.to_numpy() - previous
    names = [split_subscore_column(c) for c in now.columns]  # once per column, not once per reason
    discounts = discount_columns(today, yesterday)
    kplus = ["kplus_points"] if any("kplus_points" in f for f in (today, yesterday)) else []
    if discounts or kplus:
        points_of = lambda frame: frame.reindex(columns=[*kplus, *discounts]).to_numpy(dtype=float, na_value=0.0)  # noqa: E731
        points_before = pd.DataFrame(points_of(yesterday), index=yesterday["person_id"].to_numpy())
        points_before = points_before[~points_before.index.duplicated()].reindex(today["person_id"]).fillna(0.0)
        change = points_of(today) - points_before.to_numpy()
        change[:, len(kplus) :] *= -1  # a discount that took more points is a move down
        moves = np.hstack([moves, change])
        names += [("all", KPLUS_REASON)] * len(kplus)
        names += [("all", DISCOUNT_REASONS[c.removesuffix("_discount_points")]) for c in discounts]
    top = np.argsort(-np.abs(moves), axis=1, kind="stable")[:, :top_n]  # ties keep column order
    moved = np.take_along_axis(moves, top, axis=1)
    person, rank = np.nonzero(moved.round(2) != 0)
    column = top[person, rank]
    return pd.DataFrame(
        {
            "person_id": today["person_id"].to_numpy()[person],
            "rank": rank + 1,
            "network": pd.Index([n for n, _ in names], dtype="str").take(column),
            "subscore": pd.Index([s for _, s in names], dtype="str").take(column),
            "points": moved[person, rank],
        }
    )


def reasons_text(reasons: pd.DataFrame, person_ids: pd.Series) -> pd.Series:
    """One line per person: 'mastodon reach +1.20 points; engagement-ring discount -4.10 points; ...',
    or 'no change'."""
    if not len(reasons):
        return pd.Series("no change", index=person_ids.index, dtype=object)
    r = reasons.sort_values(["person_id", "rank"], ignore_index=True)
    subscore = r["subscore"].astype("str")
    named = r["network"].astype("str") + " " + subscore.str.replace("_", " ")
    whole = {**DISCOUNT_NAMES, KPLUS_REASON: KPLUS_NAME}  # moves of the person's, not a network's
    discount = (r["network"].astype("str") == "all") & subscore.isin(list(whole))
    text = named.where(~discount, subscore.map(whole)) + _signed(r["points"])
    # joined with "; " in rank order per person as column-wise string ops: a group-by join is a Python call a person
    nth = r.groupby("person_id", sort=False).cumcount().to_numpy()
    first = np.flatnonzero(nth == 0)
    owner = np.cumsum(nth == 0) - 1  # each reason's person, as a position in `first`
    text = text.to_numpy(dtype=object)
    joined = text[first]
    for k in range(1, int(nth.max()) + 1):
        at = np.flatnonzero(nth == k)
        joined[owner[at]] = joined[owner[at]] + "; " + text[at]
    lines = pd.Series(joined, index=r["person_id"].to_numpy()[first], dtype=object)
    return pd.Series(person_ids.map(lines).fillna("no change").to_numpy(), index=person_ids.index, dtype=object)


def _signed(points: pd.Series) -> pd.Series:
    """' +1.23 points' per value (printf's %+.2f rounds as format's +.2f does)."""
    return pd.Series(np.char.mod(" %+.2f points", points.to_numpy(dtype=float)), index=points.index, dtype="str")


def score_changes(today: pd.DataFrame, yesterday: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
    """Delta since yesterday and, in score points, the subscores (and v2's discounts) that moved
    most: "why your score changed"."""
    previous = yesterday.drop_duplicates("person_id").set_index("person_id")["score"]
    previous_score = pd.Series(today["person_id"].map(previous).to_numpy(), index=today.index).astype("Float64")
    return pd.DataFrame(
        {
            "person_id": today["person_id"],
            "day": today["day"],
            "formula_version": today["formula_version"],
            "score": today["score"],
            "previous_score": previous_score,
            "delta": (today["score"].astype("Float64") - previous_score).round(2),
            "top_reasons": reasons_text(score_reasons(today, yesterday, top_n), today["person_id"]),
        }
    )
    # nullable floats, not objects: a first day (no yesterday) must still create DOUBLE columns


def with_kplus(scored: pd.DataFrame, accepted: pd.DataFrame, day: date, formula: Formula) -> pd.DataFrame:
    """+K moves a score only when the formula enables it, and by at most `max_points`
    (`kplus_points`: how many it added). With a
    `discounts.kplus_cliques` rule (v2) a give inside a clique counts 1 - its discount, and
    `kplus_clique_discount_points` is what the clique's gives would have added on top."""
    cfg = formula.section("kplus")
    points_of = lambda gives, weight=None: kplus_points(  # noqa: E731
        gives,
        day,
        cfg["window_days"],
        enabled=True,
        cap=cfg["max_points"],
        points_per_give=cfg["points_per_give"],
        weight=weight,
    ).set_index("person_id")["score_adjustment"]
    full = points_of(accepted)
    rule = Discounts.from_section(formula.config.get("discounts")).kplus_cliques
    if not rule.enabled:
        return _plus(scored, scored["person_id"].map(full).fillna(0.0))
    if "giver_person_id" not in accepted:
        raise ValueError("a kplus_cliques discount needs the gives' giver_person_id")
    recent = accepted[in_window(accepted["given_at"], day, cfg["window_days"])]
    codes, nodes = pd.factorize(pd.concat([recent["giver_person_id"], recent["recipient_person_id"]]), sort=True)
    clique = rule.kplus(codes[: len(recent)], codes[len(recent) :], len(nodes))
    kept = points_of(recent.assign(kept_weight=1.0 - clique), "kept_weight")
    adjustment = scored["person_id"].map(kept).fillna(0.0)
    lost = scored["person_id"].map(full).fillna(0.0) - adjustment
    return _plus(scored, adjustment).assign(kplus_clique_discount_points=lost.clip(lower=0.0).round(2))


def _plus(scored: pd.DataFrame, adjustment: pd.Series) -> pd.DataFrame:
    """The score with +K's points added (at most to 100), and `kplus_points`, the points it added:
    score - kplus_points is the calibrated score the subscores and contributions add up to."""
    score = (scored["score"] + adjustment).clip(upper=100.0).round(2)
    return scored.assign(score=score, kplus_points=(score - scored["score"]).round(2))


def score_people_on(
    day: date,
    features: pd.DataFrame,
    events: EngagementEvents,
    profiles: pd.DataFrame,
    formula: Formula,
    accepted_kplus: pd.DataFrame | None = None,
    top_n: int = 5,
    flows: DayFlows | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(influence graph, scores) of one day: the day's PageRank flows feed both. Minors are never
    scored; +K counts when the formula enables it (`accepted_kplus` given). `flows`: the day's
    `events.flows`, when the caller warm-started them."""
    flows = flows if flows is not None else events.flows(day)
    graph = influence_graph(flows, top_n=top_n)
    graph.insert(1, "day", day)
    graph.insert(2, "formula_version", formula.version)
    features = features[~features["person_id"].isin(minors_on(profiles, day))]
    scored = score_day(features, flows, day, formula) if len(features) else pd.DataFrame()
    if accepted_kplus is not None and len(scored):
        scored = with_kplus(scored, accepted_kplus, day, formula)
    return graph, scored
