"""The scoring engine's encodings: a day's edges and flows as the formula defines them, and the
same bits whatever span of days a run covers (what makes a backfill equal its daily runs)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.score import EngagementEvents, decay, selectivity_weight, top_per_group
from orchestration.formulas import load_formula

from .scenario import AS_OF, events_frame

FORMULA = load_formula("v1")
PEOPLE = [f"p{i}" for i in range(8)]
event_rows = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.sampled_from(PEOPLE),
        st.sampled_from(["mastodon", "bluesky"]),
        st.integers(min_value=-5, max_value=120),
    ),
    min_size=1,
    max_size=60,
).map(lambda rows: [r for r in rows if r[0] != r[1]])


def reference_edge_weights(events: pd.DataFrame, as_of) -> pd.Series:
    """The definition, row by row: selectivity of the reactor's day x recency, summed per edge."""
    f = FORMULA.section("features")
    age = np.array([(as_of - d).days for d in events["event_day"]])
    window = events[(age >= 0) & (age < f["window_days"])].assign(age=age[(age >= 0) & (age < f["window_days"])])
    given_that_day = window.groupby(["reactor_person_id", "event_day"])["target_person_id"].transform("size")
    weight = selectivity_weight(given_that_day, f["selectivity_exponent"]) * decay(window["age"], f["half_life_days"])
    return window.assign(weight=weight).groupby(["reactor_person_id", "target_person_id", "network"])["weight"].sum()


@given(event_rows)
def test_edge_weights_follow_the_definition(rows):
    events = events_frame(rows)
    encoded = EngagementEvents(events, FORMULA)
    weights = encoded.edge_weights(AS_OF)
    live = weights > 0
    got = pd.Series(
        weights[live],
        index=pd.MultiIndex.from_arrays(
            [
                encoded.persons.take(encoded.edge_src[live]),
                encoded.persons.take(encoded.edge_dst[live]),
                pd.Index(encoded.networks).take(encoded.edge_net[live]),
            ]
        ),
    )
    expected = reference_edge_weights(events, AS_OF)
    assert sorted(got.index) == sorted(expected.index)
    np.testing.assert_allclose(got.sort_index().to_numpy(), expected.sort_index().to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("formula", [FORMULA, load_formula("v2")], ids=["v1", "v2"])
@given(event_rows, st.integers(min_value=0, max_value=20))
def test_a_days_flows_do_not_depend_on_the_runs_span(formula, rows, extra_days):
    """Flows from exactly the window's events equal, bit for bit, flows from a longer run's events
    (v2: and so do the discounts, found from the window's edges only)."""
    events = events_frame(rows)
    window = formula.section("features")["window_days"]
    day = pd.to_datetime(events["event_day"]).dt.date
    own = events[(day > AS_OF - timedelta(days=window)) & (day <= AS_OF)]
    longer = events[(day > AS_OF - timedelta(days=window + extra_days)) & (day <= AS_OF + timedelta(days=extra_days))]
    posts = events.groupby(["target_person_id", "network", "event_day"]).size().rename("posts_made").reset_index()
    posts = posts.rename(columns={"target_person_id": "person_id", "event_day": "day"})

    def engine(frame: pd.DataFrame) -> EngagementEvents:
        """As the pipeline reads the span: with posts made and reacted to (v2's coverage needs them)."""
        made = posts[posts["day"].isin(set(frame["event_day"]))]
        return EngagementEvents(frame.assign(new_post=True), formula, made)

    a, b = engine(own).flows(AS_OF), engine(longer).flows(AS_OF)
    edges = lambda f: list(zip(f.persons.take(f.src), f.persons.take(f.dst), np.asarray(f.networks)[f.net]))  # noqa: E731
    assert edges(a) == edges(b)
    assert a.flow.tobytes() == b.flow.tobytes()
    assert (a.discounted is None) == (b.discounted is None) == (formula.version == "v1")
    if a.discounted is not None:
        for name in ("ring", "indiscriminate", "reach", "swe", "reactions", "pre_flow"):
            assert getattr(a.discounted, name).tobytes() == getattr(b.discounted, name).tobytes(), name


@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=40, unique_by=lambda t: t),
    st.integers(min_value=1, max_value=4),
)
def test_top_per_group_matches_sorting(pairs, top_n):
    """Rank within group by key descending then tie ascending, as a full sort would give it."""
    pairs = sorted(pairs)  # (group, tie) unique and sorted by group
    group = np.array([g for g, _ in pairs])
    tie = np.array([t for _, t in pairs])
    key = np.array([float((g * 7 + t * 3) % 4) for g, t in pairs])  # plenty of equal keys
    frame = pd.DataFrame({"group": group, "key": key, "tie": tie})
    frame["expected"] = (
        frame.sort_values(["group", "key", "tie"], ascending=[True, False, True]).groupby("group").cumcount() + 1
    )
    frame.loc[frame["expected"] > top_n, "expected"] = 0
    assert top_per_group(group, key, tie, top_n).tolist() == frame["expected"].tolist()


@given(event_rows)
def test_a_warm_start_from_yesterdays_ranks_reaches_the_same_fixed_point(rows):
    """Starting from the previous day's ranks (a person new to the window at 1) only shortens the
    walk: today's flows are the cold start's within the solver's tolerance, and a start at today's
    own fixed point is already converged."""
    engine = EngagementEvents(events_frame(rows), FORMULA)
    yesterday = engine.flows(AS_OF - timedelta(days=1))
    cold, warm = engine.flows(AS_OF), engine.flows(AS_OF, start=yesterday.ranks)
    assert list(warm.ranks.index) == list(cold.ranks.index)
    np.testing.assert_allclose(warm.ranks.to_numpy(), cold.ranks.to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(warm.flow, cold.flow, rtol=0, atol=1e-6)
    if len(cold.flow):
        again = engine.flows(AS_OF, start=cold.ranks)
        assert again.iterations <= 2
        np.testing.assert_allclose(again.flow, cold.flow, rtol=0, atol=1e-8)


def test_a_warm_start_saves_iterations_on_a_window_that_moved_one_day():
    """On a window that gains one day of many days' similar engagement, yesterday's ranks start
    closer to today's fixed point than all-ones do."""
    rng = np.random.default_rng(7)
    people = [f"p{i:03d}" for i in range(200)]
    hubs = people[:20]
    rows = [
        (people[r], hubs[t], "mastodon", int(ago))
        for r, t, ago in zip(rng.integers(0, 200, 4000), rng.integers(0, 20, 4000), rng.integers(0, 60, 4000))
        if people[r] != hubs[t]
    ]
    engine = EngagementEvents(events_frame(rows), FORMULA)
    yesterday = engine.flows(AS_OF - timedelta(days=1))
    cold, warm = engine.flows(AS_OF), engine.flows(AS_OF, start=yesterday.ranks)
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.flow, cold.flow, rtol=0, atol=1e-6)
