"""Engagement that buys nothing: rings, indiscriminate reactors and +K cliques, as per-edge discounts.

A ring is a group whose members engage mostly with each other. It is found from three things of
one window's live reactor -> target edges (all networks collapsed):

- reciprocity R: r and t both engage with each other;
- closure kappa: the share of the smaller partner list that the two have in common, so a mutual
  pair alone (no common partner) is never a ring and engaging back never costs anything;
- insularity iota(r): the share of the reactor's own weight that goes to closed reciprocal partners.
  It is the reactor's side on purpose: a ring member's honest audience must not let the ring's
  edges through, as a target-side share would.

An edge's discount is d = R * kappa * ramp(iota(reactor)) * m in [0, 1]: 1 inside a closed ring, 0
for an honest community whose members engage enough outside it. m is the pair's traded share (see
`_traded_share`): one-way engagement on top of a ring's (a member's honest fan from before the
ring) is kept, unless it is more than 5-15% of the reactor's closed pairs, so a ring hiding its
trades by making its pairs lopsided keeps nothing. An indiscriminate reactor (a bot that reacts to nearly every post of
most of a network's authors) is caught by breadth and coverage instead, since it has no group.

Pure numpy/scipy: the cost is O(sum of squared reciprocal degrees), bounded by skipping nodes with
more than `max_degree` reciprocal partners (hubs answer many; bots are caught by breadth).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import sparse

# Shares within this of a threshold count as on it, so an exact 40% outside share is not turned
# into a tiny discount by rounding.
_EPS = 1e-9
# Non-zeros of one block of the closure product R[rows] @ R: bounds the memory of the closure step.
_CLOSURE_BLOCK = 4_000_000


def ramp(x: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 up to `start`, 1 from `full`, linear between."""
    x = np.asarray(x, dtype=float)
    linear = np.clip((x - start) / (full - start), 0.0, 1.0)
    return np.where(x <= start + _EPS, 0.0, np.where(x >= full - _EPS, 1.0, linear))


def engagement_discounts(
    reactor: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    n_nodes: int,
    *,
    min_group: int = 3,
    insularity_from: float = 0.6,
    insularity_full: float = 0.9,
    max_degree: int = 500,
    counts: np.ndarray | None = None,
    keep_one_way: bool = True,
) -> np.ndarray:
    """The ring discount in [0, 1] of each edge reactor -> target (nodes 0..n_nodes-1).

    `counts` (per edge, default `weight`) is what a pair's two directions are compared on to find
    its reciprocated part (reaction counts: the weights also carry each reactor's selectivity,
    which would make an even ring look lopsided). `keep_one_way=False` discounts all of a closed
    pair's weight (see `_traded_share`).

    Edges may repeat (one per network): their weights add up to one pair weight W[r, t], and every
    repeat gets the pair's discount. Self-edges and edges of weight 0 get 0 and count nowhere.
    A pair is closed when it has at least `min_group` - 2 common reciprocal partners (a group of
    `min_group` at least); kappa = common partners / (min reciprocal degree - 1). Nodes with more
    than `max_degree` reciprocal partners take no part in closure (their edges still count in a
    reactor's total weight, as engagement outside any group).
    """
    reactor, target, weight = _edges(reactor, target, weight, n_nodes)
    if min_group < 3:
        raise ValueError(f"min_group must be at least 3 (a mutual pair is never a ring), got {min_group}")
    out = np.zeros(len(reactor))
    live = (weight > 0) & (reactor != target)
    if not live.any():
        return out
    n = int(n_nodes)
    pair_keys, pair = np.unique(reactor[live] * n + target[live], return_inverse=True)
    w = np.bincount(pair, weights=weight[live], minlength=len(pair_keys))
    c = w if counts is None else np.bincount(pair, weights=np.asarray(counts, float)[live], minlength=len(w))
    src, dst = pair_keys // n, pair_keys % n
    back = dst * n + src
    at = np.minimum(np.searchsorted(pair_keys, back), len(pair_keys) - 1)
    mutual = pair_keys[at] == back
    degree = np.bincount(src[mutual], minlength=n)
    kept = mutual & (degree[src] <= max_degree) & (degree[dst] <= max_degree)  # symmetric, as mutual is
    degree = np.bincount(src[kept], minlength=n)
    common = np.zeros(len(pair_keys))
    if kept.any():
        common[kept] = _common_partners(src[kept], dst[kept], n, degree)
    closed = kept & (common >= max(min_group - 2, 1))
    kappa = np.zeros(len(pair_keys))
    kappa[closed] = common[closed] / (np.minimum(degree[src[closed]], degree[dst[closed]]) - 1)
    total = np.bincount(src, weights=w, minlength=n)
    inside = np.bincount(src, weights=w * kappa, minlength=n)
    insularity = np.divide(inside, total, out=np.zeros(n), where=total > 0)
    traded = _traded_share(c, at, mutual, src, closed, n) if keep_one_way else 1.0
    out[live] = (kappa * ramp(insularity[src], insularity_from, insularity_full) * traded)[pair]
    return out


def _traded_share(c, at, mutual, src, closed, n: int, lopsided_from: float = 0.05, lopsided_full: float = 0.15):
    """The share of each pair's weight the ring discount takes: the reciprocated part only,
    min(c[r, t], c[t, r]) / c[r, t] on the pairs' counts `c`, so one-way engagement on top of it (an
    honest fan's reactions from before the ring) is kept; but all of it from a reactor whose one-way
    excess is more than a sliver of its closed pairs' counts (ramped from `lopsided_from` to
    `lopsided_full`), so a ring cannot keep its edges by making them lopsided. Inside a closed group,
    then, more one-way engagement can lower what an edge keeps: like closing a ring, an exception to
    "more engagement never lowers" that only a group engaging mostly with itself meets."""
    back = np.where(mutual, c[at], 0.0)
    reciprocated = np.minimum(c, back)
    excess = np.where(closed, c - reciprocated, 0.0)
    e = np.bincount(src, weights=excess, minlength=n)
    inside = e + np.bincount(src, weights=np.where(closed, reciprocated, 0.0), minlength=n)
    lopsided = np.divide(e, inside, out=np.zeros(n), where=inside > 0)
    keep_excess = 1.0 - ramp(lopsided, lopsided_from, lopsided_full)
    share = np.divide(reciprocated, c, out=np.zeros(len(c)), where=c > 0)
    return 1.0 - keep_excess[src] * (1.0 - share)


def kplus_clique_discounts(
    giver: np.ndarray,
    recipient: np.ndarray,
    n_nodes: int,
    *,
    min_group: int = 3,
    insularity_from: float = 0.6,
    insularity_full: float = 0.9,
    max_degree: int = 500,
) -> np.ndarray:
    """The clique discount in [0, 1] of each accepted +K give giver -> recipient: the ring test of
    `engagement_discounts` with each give weighing 1, so a clique giving mostly to itself gets 1."""
    giver = np.asarray(giver, dtype=np.int64)
    return engagement_discounts(
        giver,
        recipient,
        np.ones(len(giver)),
        n_nodes,
        min_group=min_group,
        insularity_from=insularity_from,
        insularity_full=insularity_full,
        max_degree=max_degree,
        keep_one_way=False,
    )


def indiscriminate_discounts(
    reactor: np.ndarray,
    target: np.ndarray,
    network: np.ndarray,
    authors: np.ndarray | None = None,
    *,
    reacted_posts: np.ndarray | None = None,
    target_posts: np.ndarray | None = None,
    breadth_from: float = 0.25,
    breadth_full: float = 0.6,
    min_targets: int = 10,
    coverage_from: float = 0.6,
    coverage_full: float = 0.85,
) -> np.ndarray:
    """The indiscriminate-reactor discount in [0, 1] of each edge reactor -> target on `network`
    (codes 0..k-1): ramp(breadth) x ramp(coverage) of the reactor on that network.

    breadth(r, net) = distinct targets of r on net / distinct authors on net in the window
    (`authors[net]`; never fewer than the distinct targets the edges name there, which is the
    default). A reactor with fewer than `min_targets` distinct targets on a network is never
    indiscriminate there: reacting to 3 of a small network's 4 authors is not a bot's signature.

    coverage(r, net) = posts r reacted to / posts its targets made (`reacted_posts` per edge, summed:
    the pipeline counts a post once per day reacted on; `target_posts` per edge: the target's posts on
    net in the window; over 1, e.g. reactions to posts made before the window, counts as 1). A bot
    reacts to nearly every post of the authors it reacts to; an honest reactor, however many authors, picks among their
    posts. Breadth alone cannot tell them apart on a small network, where an active honest reactor
    reaches most authors. Without post counts, coverage is not known and only breadth counts.
    """
    reactor = np.asarray(reactor, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    network = np.asarray(network, dtype=np.int64)
    if not (len(reactor) == len(target) == len(network)):
        raise ValueError("reactor, target and network must have the same length")
    if (reacted_posts is None) != (target_posts is None):
        raise ValueError("reacted_posts and target_posts go together")
    out = np.zeros(len(reactor))
    live = reactor != target
    if not live.any():
        return out
    if min(reactor.min(), target.min(), network.min()) < 0:
        raise ValueError("node and network codes must be non-negative")
    n, k = int(max(reactor.max(), target.max())) + 1, int(network.max()) + 1
    triples, first, which = np.unique(
        (reactor[live] * n + target[live]) * k + network[live], return_index=True, return_inverse=True
    )
    t_net, t_reactor, t_target = triples % k, triples // k // n, triples // k % n
    seen_targets = np.bincount(np.unique(t_target * k + t_net) % k, minlength=k)
    if authors is None:
        denominator = seen_targets
    else:
        authors = np.asarray(authors, dtype=float)
        if len(authors) < k:
            raise ValueError(f"authors has {len(authors)} networks, the edges use {k}")
        denominator = np.maximum(authors[:k], seen_targets)
    groups, group_of, per_group = np.unique(t_reactor * k + t_net, return_inverse=True, return_counts=True)
    breadth = per_group / denominator[groups % k]
    d_group = np.where(per_group >= min_targets, ramp(breadth, breadth_from, breadth_full), 0.0)
    if reacted_posts is not None:
        reacted = np.bincount(which, weights=np.asarray(reacted_posts, dtype=float)[live], minlength=len(triples))
        made = np.asarray(target_posts, dtype=float)[live][first]
        reacted_g = np.bincount(group_of, weights=reacted, minlength=len(groups))
        made_g = np.bincount(group_of, weights=made, minlength=len(groups))
        # no posts known for the targets (no counts for them): coverage unknown, breadth alone counts
        coverage = np.divide(reacted_g, made_g, out=np.ones(len(groups)), where=made_g > 0)
        d_group = d_group * ramp(np.minimum(coverage, 1.0), coverage_from, coverage_full)
    at = np.searchsorted(groups, reactor[live] * k + network[live])
    out[live] = d_group[at]
    return out


def _edges(reactor, target, weight, n_nodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reactor = np.asarray(reactor, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    weight = np.asarray(weight, dtype=float)
    if not (len(reactor) == len(target) == len(weight)):
        raise ValueError("reactor, target and weight must have the same length")
    if len(reactor):
        if min(reactor.min(), target.min()) < 0 or max(reactor.max(), target.max()) >= n_nodes:
            raise ValueError(f"node codes must lie in 0..{n_nodes - 1}")
        if not np.isfinite(weight).all() or (weight < 0).any():
            raise ValueError("weights must be finite and non-negative")
    if n_nodes >= 1 << 31:
        raise ValueError("at most 2**31 nodes (pair keys are int64)")
    return reactor, target, weight


def _common_partners(src: np.ndarray, dst: np.ndarray, n: int, degree: np.ndarray) -> np.ndarray:
    """For each reciprocal pair (src, dst) (a symmetric edge list), the number of common
    reciprocal partners: (R @ R)[src, dst], computed in row blocks of bounded size."""
    mask = sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    mask.sort_indices()
    # non-zeros of row i of R @ R are at most the sum of its partners' degrees
    cost = np.asarray(mask @ degree.astype(float)).ravel()
    bounds = np.searchsorted(np.cumsum(cost), np.arange(_CLOSURE_BLOCK, cost.sum(), _CLOSURE_BLOCK))
    blocks = []
    for lo, hi in zip(np.r_[0, bounds + 1], np.r_[bounds + 1, n]):
        if hi > lo:
            rows = mask[lo:hi]
            blocks.append((rows @ mask).multiply(rows).tocsr())
    closure = sparse.vstack(blocks, format="coo") if blocks else sparse.coo_matrix((n, n))
    keys = closure.row.astype(np.int64) * n + closure.col
    order = np.argsort(keys)
    keys, values = keys[order], closure.data[order]
    wanted = src * n + dst
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = (keys[at] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, values[at] if len(keys) else 0.0, 0.0)


def _knobs(rule) -> dict[str, Any]:
    """A rule's thresholds as keyword arguments of its detector (every field but `enabled`)."""
    return {f.name: getattr(rule, f.name) for f in fields(rule) if f.name != "enabled"}


@dataclass(frozen=True)
class GroupRule:
    """Thresholds of the ring test (engagement rings or +K cliques); disabled: every discount 0."""

    enabled: bool = False
    min_group: int = 3
    insularity_from: float = 0.6
    insularity_full: float = 0.9
    max_degree: int = 500

    def __post_init__(self):
        if self.min_group < 3:
            raise ValueError(f"min_group must be at least 3, got {self.min_group}")
        if not 0 <= self.insularity_from < self.insularity_full <= 1:
            raise ValueError(f"need 0 <= insularity_from < insularity_full <= 1, got {self}")
        if self.max_degree < 2:
            raise ValueError(f"max_degree must be at least 2, got {self.max_degree}")

    def engagement(self, reactor, target, weight, n_nodes: int, counts=None) -> np.ndarray:
        if not self.enabled:
            return np.zeros(len(reactor))
        return engagement_discounts(reactor, target, weight, n_nodes, counts=counts, **_knobs(self))

    def kplus(self, giver, recipient, n_nodes: int) -> np.ndarray:
        if not self.enabled:
            return np.zeros(len(giver))
        return kplus_clique_discounts(giver, recipient, n_nodes, **_knobs(self))


@dataclass(frozen=True)
class BreadthRule:
    """Thresholds of the indiscriminate-reactor test; disabled: every discount 0."""

    enabled: bool = False
    breadth_from: float = 0.25
    breadth_full: float = 0.6
    min_targets: int = 10
    coverage_from: float = 0.6
    coverage_full: float = 0.85

    def __post_init__(self):
        if not 0 <= self.breadth_from < self.breadth_full <= 1:
            raise ValueError(f"need 0 <= breadth_from < breadth_full <= 1, got {self}")
        if not 0 <= self.coverage_from < self.coverage_full <= 1:
            raise ValueError(f"need 0 <= coverage_from < coverage_full <= 1, got {self}")
        if self.min_targets < 1:
            raise ValueError(f"min_targets must be at least 1, got {self.min_targets}")

    def discounts(self, reactor, target, network, authors=None, reacted_posts=None, target_posts=None) -> np.ndarray:
        if not self.enabled:
            return np.zeros(len(reactor))
        return indiscriminate_discounts(
            reactor,
            target,
            network,
            authors,
            reacted_posts=reacted_posts,
            target_posts=target_posts,
            **_knobs(self),
        )


@dataclass(frozen=True)
class Discounts:
    """A formula's `discounts:` section. A sub-section present is enabled unless it says
    `enabled: false`; one absent (v1 has no section at all) is disabled, so v1 scores never move."""

    rings: GroupRule = field(default_factory=GroupRule)
    indiscriminate: BreadthRule = field(default_factory=BreadthRule)
    kplus_cliques: GroupRule = field(default_factory=GroupRule)

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> Discounts:
        section = dict(section or {})
        kinds = {"rings": GroupRule, "indiscriminate": BreadthRule, "kplus_cliques": GroupRule}
        unknown = set(section) - set(kinds)
        if unknown:
            raise ValueError(f"unknown discounts {sorted(unknown)}; known: {sorted(kinds)}")
        rules = {}
        for name, rule in kinds.items():
            sub = section.get(name)
            if sub is None:
                rules[name] = rule()
                continue
            known = {f.name for f in fields(rule)}
            if set(sub) - known:
                raise ValueError(f"discounts.{name}: unknown keys {sorted(set(sub) - known)}; known: {sorted(known)}")
            rules[name] = rule(**{"enabled": True, **sub})
        return cls(**rules)

    @property
    def any_enabled(self) -> bool:
        return self.rings.enabled or self.indiscriminate.enabled or self.kplus_cliques.enabled
