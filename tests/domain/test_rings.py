"""Ring, clique and indiscriminate-reactor detection: what must be discounted, what must not."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rings import (
    BreadthRule,
    Discounts,
    GroupRule,
    engagement_discounts,
    indiscriminate_discounts,
    kplus_clique_discounts,
    ramp,
)


def clique(members: list[int], weight: float = 1.0) -> list[tuple[int, int, float]]:
    """Everyone in `members` engaging with everyone else."""
    return [(r, t, weight) for r, t in itertools.permutations(members, 2)]


def run(edges: list[tuple[int, int, float]], n: int, **kw) -> np.ndarray:
    r, t, w = (np.array(c) for c in zip(*edges)) if edges else (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    return engagement_discounts(r, t, w, n, **kw)


def ring_with_outside(size: int, outside_share: float, fans: int = 20) -> tuple[list, np.ndarray, int]:
    """A group of `size` all engaging with each other, each member also putting `outside_share` of
    their weight on `fans` outside authors who never engage back. Returns (edges, is_group_edge, n)."""
    members = list(range(size))
    inside = clique(members)
    outside = []
    if outside_share > 0:
        per_fan = outside_share * (size - 1) / (1 - outside_share) / fans
        outside = [(m, size + f, per_fan) for m in members for f in range(fans)]
    flags = np.r_[np.ones(len(inside), bool), np.zeros(len(outside), bool)]
    return inside + outside, flags, size + fans


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=3, max_value=30), st.floats(min_value=0.0, max_value=0.1))
def test_a_closed_ring_is_discounted_fully_and_only_on_its_edges(size, outside_share):
    edges, group, n = ring_with_outside(size, outside_share)
    d = run(edges, n)
    assert d[group] == pytest.approx(1.0)
    assert (d[~group] == 0).all()


def test_one_way_engagement_on_top_of_a_ring_is_kept_unless_the_ring_is_lopsided():
    """Member 0's honest extra 3 on top of 30 each way to member 1: those 3 (3/33 of the edge) are
    kept. Each member giving 30 one way and 5 back to its partners: nothing is kept. +K cliques keep
    nothing either."""
    even = clique(list(range(10)), 30.0)
    plus = [(r, t, w + 3.0 if (r, t) == (0, 1) else w) for r, t, w in even]
    d = run(plus, 10)
    assert d[0] == pytest.approx(30 / 33)
    assert d[1:] == pytest.approx(1.0)
    lopsided = [(r, t, 30.0 if (t - r) % 10 < 5 else 5.0) for r, t, _ in even]
    assert run(lopsided, 10) == pytest.approx(1.0)
    r, t, w = (np.array(c) for c in zip(*plus))
    assert kplus_clique_discounts(np.repeat(r, w.astype(int)), np.repeat(t, w.astype(int)), 10) == pytest.approx(1.0)


def test_inside_a_ring_more_one_way_engagement_can_lower_what_an_edge_keeps():
    """The documented exception: member 0's one-way extra x to member 1 is kept while it is under 5%
    of member 0's closed pairs (270 reciprocated), then less and less of it, none from 15% on."""
    even = clique(list(range(10)), 30.0)

    def kept(x: float) -> float:
        edges = [(r, t, w + x if (r, t) == (0, 1) else w) for r, t, w in even]
        return edges[0][2] * (1 - run(edges, 10)[0])

    assert kept(5) == pytest.approx(5) and kept(14) == pytest.approx(14)
    assert kept(20) < 20 and kept(60) == pytest.approx(0, abs=1e-9)


def test_counts_not_weights_decide_what_is_reciprocated():
    """An even ring whose members weigh their reactions differently (selectivity) is still even."""
    edges = clique(list(range(10)), 1.0)
    weight = np.array([0.2 if r == 0 else 1.0 for r, _, _ in edges])
    r, t = (np.array(c) for c in list(zip(*edges))[:2])
    counted = engagement_discounts(r, t, weight, 10, counts=np.ones(len(edges)))
    assert counted == pytest.approx(1.0)
    assert engagement_discounts(r, t, weight, 10).min() < 1.0


def test_a_ring_of_20_is_discounted_even_with_an_honest_audience():
    """Fans reacting to ring members do not let the ring's edges through (the signal is the reactor's)."""
    edges, group, n = ring_with_outside(20, 0.05)
    fans = [(100 + i, m, 1.0) for i in range(50) for m in range(20)]
    d = run(edges + fans, 200)
    assert d[: group.sum()] == pytest.approx(1.0)
    assert (d[group.sum() :] == 0).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=3, max_value=30), st.floats(min_value=0.4, max_value=0.95))
def test_an_honest_community_engaging_outside_is_not_discounted(size, outside_share):
    edges, _, n = ring_with_outside(size, outside_share)
    assert (run(edges, n) == 0).all()


def test_the_honest_community_of_20_at_exactly_40_percent_outside_is_not_discounted():
    edges, _, n = ring_with_outside(20, 0.4)
    assert (run(edges, n) == 0).all()


def test_ramp_snaps_to_its_thresholds():
    assert ramp(np.array([0.6 + 1e-12, 0.75, 0.9 - 1e-12, 2.0, -1.0]), 0.6, 0.9).tolist() == [0.0, 0.5, 1.0, 1.0, 0.0]
    assert float(ramp(0.75, 0.6, 0.9)) == pytest.approx(0.5)


def test_insularity_between_the_thresholds_discounts_partially():
    edges, group, n = ring_with_outside(10, 0.25)  # insularity 0.75: half-way up the ramp
    d = run(edges, n)
    assert d[group] == pytest.approx(0.5)
    assert (d[~group] == 0).all()


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0.01, max_value=100.0), st.floats(min_value=0.01, max_value=100.0))
def test_a_mutual_pair_alone_is_never_a_ring(a, b):
    assert (run([(0, 1, a), (1, 0, b)], 2) == 0).all()


def test_pairs_of_a_chain_are_not_closed():
    """A line of mutual pairs (no two partners share a partner) is no group."""
    edges = [e for i in range(9) for e in ((i, i + 1, 1.0), (i + 1, i, 1.0))]
    assert (run(edges, 10) == 0).all()


def test_min_group_excludes_smaller_groups():
    triangle = clique([0, 1, 2])
    assert run(triangle, 3) == pytest.approx(1.0)
    assert (run(triangle, 3, min_group=4) == 0).all()
    assert run(clique([0, 1, 2, 3]), 4, min_group=4) == pytest.approx(1.0)


def test_one_way_engagement_is_never_a_ring():
    """A star of fans and a tournament (everyone engaged with, but never back) have no reciprocity."""
    star = [(i, 0, 1.0) for i in range(1, 30)]
    tournament = [(i, j, 1.0) for i in range(10) for j in range(i + 1, 10)]
    assert (run(star, 30) == 0).all()
    assert (run(tournament, 10) == 0).all()


def test_edges_of_several_networks_collapse_to_one_pair_and_share_its_discount():
    split = [(r, t, w / 2) for r, t, w in clique(list(range(5)))]
    edges = split + split  # the same pairs on two networks
    d = run(edges, 5)
    assert d == pytest.approx(1.0) and len(d) == 40


def test_self_edges_and_weightless_edges_get_nothing():
    edges = clique([0, 1, 2]) + [(0, 0, 5.0), (0, 3, 0.0)]
    d = run(edges, 4)
    assert d[:6] == pytest.approx(1.0) and d[6:].tolist() == [0.0, 0.0]


def test_nodes_above_max_degree_take_no_part_in_closure():
    """A hub engaged back by many closes no group when over the cap; its partners' ring edges still count."""
    edges, group, _ = ring_with_outside(5, 0.0)
    hub = 5
    to_hub = [e for m in range(5) for e in ((m, hub, 0.01), (hub, m, 1.0))]
    hub_fans = [e for f in range(6, 16) for e in ((f, hub, 1.0), (hub, f, 1.0))]
    everything = edges + to_hub + hub_fans
    d = run(everything, 16, max_degree=6)
    assert d[: group.sum()] == pytest.approx(1.0)
    assert (d[group.sum() :] == 0).all()
    # without the cap the hub is closed with the group: its members' edges to it are ring edges too
    uncapped = run(everything, 16)
    assert uncapped[: group.sum()] == pytest.approx(1.0)
    assert uncapped[group.sum() : group.sum() + len(to_hub) : 2] == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_relabelling_nodes_permutes_the_result(data):
    n = data.draw(st.integers(min_value=2, max_value=25))
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=0, max_size=120, unique=True)
    )
    weights = data.draw(st.lists(st.floats(0.01, 10.0), min_size=len(pairs), max_size=len(pairs)))
    perm = np.array(data.draw(st.permutations(range(n))))
    edges = [(r, t, w) for (r, t), w in zip(pairs, weights)]
    relabelled = [(int(perm[r]), int(perm[t]), w) for r, t, w in edges]
    d, d_perm = run(edges, n), run(relabelled, n)
    np.testing.assert_allclose(d, d_perm, atol=1e-12)
    assert ((d >= 0) & (d <= 1)).all()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_a_ring_closed_on_several_networks_is_caught_whatever_the_split(data):
    """Each pair's engagement on one network or split over two (one edge per network) is one group."""
    size = data.draw(st.integers(min_value=3, max_value=20))
    edges = []
    for r, t, _ in clique(list(range(size))):
        share = data.draw(st.sampled_from([1.0, 0.5, 0.1]))
        edges += [(r, t, share)] + ([(r, t, 1.0 - share)] if share < 1 else [])
    assert run(edges, size) == pytest.approx(1.0)


def test_empty_input_gives_empty_output():
    none = np.zeros(0, dtype=np.int64)
    assert engagement_discounts(none, none, np.zeros(0), 0).shape == (0,)
    assert kplus_clique_discounts(none, none, 0).shape == (0,)
    assert indiscriminate_discounts(none, none, none).shape == (0,)
    assert indiscriminate_discounts(none, none, none, np.array([5])).shape == (0,)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        engagement_discounts(np.array([0]), np.array([5]), np.array([1.0]), 3)
    with pytest.raises(ValueError):
        engagement_discounts(np.array([0]), np.array([1]), np.array([-1.0]), 3)
    with pytest.raises(ValueError):
        engagement_discounts(np.array([0]), np.array([1]), np.array([1.0]), 3, min_group=2)


def test_a_kplus_clique_of_12_gives_nothing_and_honest_gives_do():
    clique12 = clique(list(range(12)))
    honest = [(20 + i, 12 + i % 5, 1.0) for i in range(30)]  # a crowd giving to 5 people who do not give back
    edges = clique12 + honest
    giver, recipient = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    d = kplus_clique_discounts(giver, recipient, 50)
    assert d[: len(clique12)] == pytest.approx(1.0)
    assert (d[len(clique12) :] == 0).all()


def test_repeated_kplus_gives_count_as_weight():
    """A clique member who gives most +K outside it is not a clique member's pattern."""
    clique4 = clique(list(range(4)))
    outside = [(m, 10 + j, 1.0) for m in range(4) for j in range(3) for _ in range(3)]  # 9 gives out, 3 in
    edges = clique4 + outside
    giver, recipient = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    assert (kplus_clique_discounts(giver, recipient, 20) == 0).all()


def test_a_bot_reacting_to_every_author_is_discounted_and_a_selective_reactor_is_not():
    authors = 50
    bot = [(100, a) for a in range(authors)]
    selective = [(101, a) for a in range(0, authors, 10)] * 3  # 5 authors, often
    regular = [(102, a) for a in range(11)]  # 11 of 50: breadth 0.22, under 0.25
    edges = bot + selective + regular
    r, t = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    d = indiscriminate_discounts(r, t, np.zeros(len(edges), int), np.array([authors]))
    assert (d[: len(bot)] == 1).all()
    assert (d[len(bot) :] == 0).all()


def test_breadth_is_per_network_and_ramps():
    # 20 authors on network 0, 100 on network 1; the reactor reaches 10 of 20 and 10 of 100
    r = np.full(20, 50)
    t = np.r_[np.arange(10), np.arange(10)]
    net = np.r_[np.zeros(10, int), np.ones(10, int)]
    d = indiscriminate_discounts(r, t, net, np.array([20, 100]))
    assert d[:10] == pytest.approx(ramp(np.array([0.5]), 0.25, 0.6)[0])
    assert (d[10:] == 0).all()


def test_few_targets_are_never_indiscriminate():
    """Reacting to 3 of a small network's 4 authors is not a bot's signature."""
    r, t = np.full(3, 9), np.arange(3)
    assert (indiscriminate_discounts(r, t, np.zeros(3, int), np.array([4])) == 0).all()
    assert (indiscriminate_discounts(r, t, np.zeros(3, int), np.array([4]), min_targets=3) == 1).all()


def test_coverage_separates_a_bot_from_a_broad_honest_reactor():
    """Both reach all 20 authors (breadth 1); the honest one reacts to 20% of their posts, the bot to
    90%. Coverage over 1 (reactions to posts made before the window) counts as 1."""
    r, t, authors = np.r_[np.full(20, 30), np.full(20, 31)], np.r_[np.arange(20), np.arange(20)], [20]
    net = np.zeros(40, int)
    made = np.full(40, 30.0)
    reacted = np.r_[np.full(20, 6.0), np.full(20, 27.0)]
    d = indiscriminate_discounts(r, t, net, authors, reacted_posts=reacted, target_posts=made)
    assert (d[:20] == 0).all() and (d[20:] == 1).all()
    half = indiscriminate_discounts(r, t, net, authors, reacted_posts=np.full(40, 21.75), target_posts=made)
    assert half == pytest.approx(np.full(40, ramp(np.array([0.725]), 0.6, 0.85)[0]))
    over = indiscriminate_discounts(r, t, net, authors, reacted_posts=np.full(40, 99.0), target_posts=made)
    assert (over == 1).all()
    with pytest.raises(ValueError, match="go together"):
        indiscriminate_discounts(r, t, net, authors, reacted_posts=reacted)


def test_coverage_counts_repeated_edges_once_for_posts_made():
    """An edge listed twice (e.g. two days) adds its posts reacted, not its target's posts made."""
    r, t, net = np.full(20, 30), np.r_[np.arange(10), np.arange(10)], np.zeros(20, int)
    d = indiscriminate_discounts(
        r, t, net, [10], reacted_posts=np.full(20, 14.0), target_posts=np.full(20, 30.0), min_targets=10
    )
    assert (d == ramp(np.array([28 / 30]), 0.6, 0.85)[0]).all()


def test_authors_default_to_the_targets_seen():
    r = np.r_[np.full(12, 1), np.full(2, 2)]
    t = np.r_[np.arange(10, 22), np.arange(10, 12)]
    d = indiscriminate_discounts(r, t, np.zeros(14, int))
    assert (d[:12] == 1).all() and (d[12:] == 0).all()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_indiscriminate_relabelling_invariance(data):
    n = data.draw(st.integers(min_value=2, max_value=40))
    node = st.integers(0, n - 1)
    edges = data.draw(st.lists(st.tuples(node, node, st.integers(0, 1)), max_size=200))
    perm = np.array(data.draw(st.permutations(range(n))))
    r, t, net = (np.array(c, dtype=np.int64) for c in zip(*edges)) if edges else (np.zeros(0, np.int64),) * 3
    authors = np.array([n, n])
    d = indiscriminate_discounts(r, t, net, authors, min_targets=2)
    assert np.array_equal(d, indiscriminate_discounts(perm[r], perm[t], net, authors, min_targets=2))
    assert ((d >= 0) & (d <= 1)).all()


def test_discounts_section_absent_disables_everything():
    rules = Discounts.from_section(None)
    assert not rules.any_enabled
    r, t = np.array([0, 1, 2, 1, 2, 0]), np.array([1, 2, 0, 0, 1, 2])
    assert (rules.rings.engagement(r, t, np.ones(6), 3) == 0).all()
    assert (rules.kplus_cliques.kplus(r, t, 3) == 0).all()
    assert (rules.indiscriminate.discounts(r, t, np.zeros(6, int)) == 0).all()


def test_discounts_section_as_v2_would_write_it():
    rules = Discounts.from_section(
        {
            "rings": {"enabled": True, "min_group": 3, "insularity_from": 0.6, "insularity_full": 0.9},
            "indiscriminate": {"breadth_from": 0.25, "breadth_full": 0.6},
            "kplus_cliques": {"enabled": False},
        }
    )
    assert rules.rings == GroupRule(enabled=True)
    assert rules.indiscriminate == BreadthRule(enabled=True)
    assert not rules.kplus_cliques.enabled
    r, t = np.array([0, 1, 2, 1, 2, 0]), np.array([1, 2, 0, 0, 1, 2])
    assert rules.rings.engagement(r, t, np.ones(6), 3) == pytest.approx(1.0)
    assert (rules.kplus_cliques.kplus(r, t, 3) == 0).all()


@pytest.mark.parametrize(
    "section",
    [
        {"ringz": {}},
        {"rings": {"insularity_form": 0.5}},
        {"rings": {"insularity_from": 0.9, "insularity_full": 0.6}},
        {"indiscriminate": {"breadth_from": 0.7}},
        {"kplus_cliques": {"min_group": 2}},
    ],
)
def test_discounts_section_typos_and_bad_thresholds_are_refused(section):
    with pytest.raises(ValueError):
        Discounts.from_section(section)


def test_cost_is_bounded_on_a_large_sparse_graph_with_hubs():
    """200k random edges over 100k nodes, plus hubs engaged back by thousands and a planted ring:
    the degree cap keeps the closure cheap, and the ring is still found."""
    rng = np.random.default_rng(21)
    n, m = 100_000, 200_000
    r, t = rng.integers(0, n, m), rng.integers(0, n, m)
    hubs = np.arange(20)  # each engaged back by 3,000 fans of a shared pool: uncapped, ~10^8 closure paths
    fans = rng.integers(20, 10_020, (20, 3_000))
    hub_r = np.r_[np.repeat(hubs, 3_000), fans.ravel()]
    hub_t = np.r_[fans.ravel(), np.repeat(hubs, 3_000)]
    ring = np.arange(99_980, 100_000)
    ring_r, ring_t = (np.array(c) for c in zip(*itertools.permutations(ring, 2)))
    reactor, target = np.r_[r, hub_r, ring_r], np.r_[t, hub_t, ring_t]
    weight = rng.uniform(0.1, 1.0, len(reactor))
    weight[-len(ring_r) :] = 50.0  # the ring's members put nearly all their weight inside
    d = engagement_discounts(reactor, target, weight, n, max_degree=500)
    assert d.shape == reactor.shape
    assert (d[m : m + len(hub_r)] == 0).all()
    assert d[-len(ring_r) :] == pytest.approx(1.0, abs=0.05)
