"""The scoring engine's encodings: a day's edges and flows as the formula defines them, and the
same bits whatever span of days a run covers (what makes a backfill equal its daily runs)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
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


@given(event_rows, st.integers(min_value=0, max_value=20))
def test_a_days_flows_do_not_depend_on_the_runs_span(rows, extra_days):
    """Flows from exactly the window's events equal, bit for bit, flows from a longer run's events."""
    events = events_frame(rows)
    window = FORMULA.section("features")["window_days"]
    day = pd.to_datetime(events["event_day"]).dt.date
    own = events[(day > AS_OF - timedelta(days=window)) & (day <= AS_OF)]
    longer = events[(day > AS_OF - timedelta(days=window + extra_days)) & (day <= AS_OF + timedelta(days=extra_days))]
    a, b = EngagementEvents(own, FORMULA).flows(AS_OF), EngagementEvents(longer, FORMULA).flows(AS_OF)
    edges = lambda f: list(zip(f.persons.take(f.src), f.persons.take(f.dst), np.asarray(f.networks)[f.net]))  # noqa: E731
    assert edges(a) == edges(b)
    assert a.flow.tobytes() == b.flow.tobytes()


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
