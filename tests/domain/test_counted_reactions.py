"""Reactions the APIs count but name nobody for (Instagram and YouTube likes, Facebook shares, X
bookmarks) and views: they feed amplification only, so they can raise a score and never lower one,
and they add no reach and no network influence (nobody is behind them to count)."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from domain.score import EngagementEvents, network_subscores, score_day
from orchestration.formulas import load_formula

from .scenario import AS_OF, events_frame, features_from

FORMULA = load_formula("v1")
counts = st.integers(min_value=0, max_value=5_000)
days_ago = st.integers(min_value=0, max_value=89)
named = st.integers(min_value=0, max_value=40)


def fans(target: str, n: int, network: str = "instagram") -> list:
    return [(f"fan{i}", target, network, 1 + i % 30) for i in range(n)]


def scored(events, posts, counted=None, formula=FORMULA):
    flows = EngagementEvents(events, formula).flows(AS_OF)
    return score_day(features_from(events, posts, counted=counted), flows, AS_OF, formula).set_index("person_id")


def subscores(events, posts, counted=None):
    features = features_from(events, posts, counted=counted)
    flows = EngagementEvents(events, FORMULA).flows(AS_OF)
    return network_subscores(features, flows.network_flow(features["person_id"], features["network"]), FORMULA)


def test_v1_weighs_counted_reactions():
    """The weights this property suite relies on are v1's: were they 0, every test below would be void."""
    weights = FORMULA.config["anonymous"]
    assert weights["reaction_weight"] > 0 and weights["view_weight"] > 0


@given(named, counts, counts, days_ago)
def test_counted_reactions_never_lower_a_score(n, likes, views, ago):
    events, posts = events_frame(fans("star", n)), {("star", "instagram"): [1, 4]}
    before = scored(events, posts)
    after = scored(events, posts, {("star", "instagram"): [(ago, likes, views)]})
    assert after.loc["star", "score"] >= before.loc["star", "score"]
    assert after.loc["star", "strength"] >= before.loc["star", "strength"]


@given(named, counts, counts, days_ago)
def test_counted_reactions_add_no_reach_and_no_network(n, likes, views, ago):
    events, posts = events_frame(fans("star", n) + fans("fan0", 3)), {("star", "instagram"): [1, 4]}
    plain = subscores(events, posts)
    counted = subscores(events, posts, {("star", "instagram"): [(ago, likes, views)]})
    for column in ("reach", "network_impact"):
        np.testing.assert_array_equal(counted[column].to_numpy(), plain[column].to_numpy())
    assert (counted["amplification"].to_numpy() >= plain["amplification"].to_numpy()).all()


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=5_000))
def test_a_network_seen_only_through_counts_never_lowers(n, likes):
    """A YouTube channel whose likes are all the API shows still only adds to a score."""
    events, posts = events_frame(fans("star", n, "mastodon")), {("star", "mastodon"): [1]}
    before = scored(events, posts)
    after = scored(events, {**posts, ("star", "youtube"): [2]}, {("star", "youtube"): [(2, likes, 0)]})
    assert after.loc["star", "score"] >= before.loc["star", "score"]


@given(st.integers(min_value=10, max_value=5_000))
def test_counted_reactions_per_post_beat_the_same_spread_thin(likes):
    """Amplification's principle holds for counts too: the same likes on 2 posts beat them on 20."""
    posts = {("few", "instagram"): [1] * 2, ("many", "instagram"): [1] * 20}
    counted = {("few", "instagram"): [(1, likes, 0)], ("many", "instagram"): [(1, likes, 0)]}
    scores = scored(events_frame([]), posts, counted)
    assert scores.loc["few", "strength"] > scores.loc["many", "strength"]


@given(counts, counts)
def test_a_version_without_weights_ignores_counts(likes, views):
    """Counts move a score only through a formula version's `anonymous` weights."""
    config = {k: v for k, v in FORMULA.config.items() if k != "anonymous"}
    unweighted = dataclasses.replace(FORMULA, config=config)
    events, posts = events_frame(fans("star", 5)), {("star", "instagram"): [1]}
    before = scored(events, posts, formula=unweighted)
    after = scored(events, posts, {("star", "instagram"): [(1, likes, views)]}, formula=unweighted)
    assert after.loc["star", "strength"] == before.loc["star", "strength"]
