"""EdgeDays: the engagement collapsed to one row per (edge, day), as the warehouse's memo keeps it.
Built from those rows, in any numbering and order, EngagementEvents has the bits it has from the
events themselves, and each (edge, day) weighs what its events summed one by one weigh."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.score import EdgeDays, EngagementEvents, selectivity_weight
from orchestration.formulas import load_formula

from .scenario import AS_OF

PEOPLE = [f"p{i}" for i in range(7)] + ["bluesky:z"]
event_rows = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.sampled_from(PEOPLE),
        st.sampled_from(["mastodon", "bluesky", "x"]),
        st.integers(min_value=0, max_value=12),
        st.booleans(),
    ),
    min_size=1,
    max_size=80,
).map(lambda rows: [r for r in rows if r[0] != r[1]])


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "reactor_person_id": [r[0] for r in rows],
            "target_person_id": [r[1] for r in rows],
            "network": [r[2] for r in rows],
            "event_day": [AS_OF - timedelta(days=r[3]) for r in rows],
            "new_post": [r[4] for r in rows],
        }
    )


def renumbered(rows: EdgeDays, seed: int) -> EdgeDays:
    """The same rows as a memo may hold them: shuffled, numbered in another order, with names unused."""
    rng = np.random.default_rng(seed)
    persons = np.concatenate([np.asarray(rows.persons, dtype=object), ["unused-a", "p99"]])
    new_number = rng.permutation(len(persons))
    names = np.empty(len(persons), dtype=object)
    names[new_number] = persons
    nets = np.concatenate([np.asarray(rows.networks, dtype=object), ["wikipedia"]])
    net_number = rng.permutation(len(nets))
    net_names = np.empty(len(nets), dtype=object)
    net_names[net_number] = nets
    order = rng.permutation(len(rows.day))
    return EdgeDays(
        persons=pd.Index(names, dtype=object),
        networks=pd.Index(net_names, dtype=object),
        reactor=new_number[rows.reactor][order].astype(np.int32),
        target=new_number[rows.target][order].astype(np.int32),
        network=net_number[rows.network][order].astype(np.int32),
        day=rows.day[order],
        reactions=rows.reactions[order].astype(np.int32),
        reactor_reactions=rows.reactor_reactions[order].astype(np.int32),
        posts_reacted=rows.posts_reacted[order].astype(np.int32),
    )


def encoded_arrays(engine: EngagementEvents) -> dict[str, bytes]:
    arrays = {k: v.tobytes() for k, v in vars(engine).items() if isinstance(v, np.ndarray) and v.dtype != object}
    return arrays | {"persons": list(engine.persons), "networks": list(engine.networks)}


@settings(max_examples=60, deadline=None)
@given(event_rows, st.integers(min_value=0, max_value=2**16), st.sampled_from(["v1", "v2"]))
def test_the_collapsed_rows_in_any_numbering_give_the_events_bits(rows, seed, version):
    formula = load_formula(version)
    events = frame(rows)
    posts = pd.DataFrame(
        {"person_id": ["p1", "p2"], "network": ["mastodon", "x"], "day": [AS_OF, AS_OF], "posts_made": [3, 1]}
    )
    from_events = EngagementEvents(events, formula, posts)
    from_memo = EngagementEvents(renumbered(EdgeDays.from_events(events), seed), formula, posts)
    assert encoded_arrays(from_memo) == encoded_arrays(from_events)
    assert from_memo.persons.dtype == from_events.persons.dtype
    a, b = from_events.flows(AS_OF), from_memo.flows(AS_OF)
    assert a.flow.tobytes() == b.flow.tobytes() and a.ranks.to_numpy().tobytes() == b.ranks.to_numpy().tobytes()


@given(event_rows)
def test_each_edge_day_weighs_its_events_summed_one_by_one(rows):
    """The definition the memo must keep to the bit: per event, its reactor's selectivity that day,
    added up per (edge, day) in turn, as np.bincount adds them."""
    formula = load_formula("v1")
    events = frame(rows)
    engine = EngagementEvents(events, formula)
    given_that_day = events.groupby(["reactor_person_id", "event_day"])["network"].transform("size")
    weight = selectivity_weight(given_that_day, formula.section("features")["selectivity_exponent"])
    group = events.groupby(["reactor_person_id", "target_person_id", "network", "event_day"]).ngroup().to_numpy()
    expected = np.bincount(group, weights=weight)
    keys = events.groupby(["reactor_person_id", "target_person_id", "network", "event_day"]).size().index
    got = {
        (
            engine.persons[engine.edge_src[e]],
            engine.persons[engine.edge_dst[e]],
            engine.networks[engine.edge_net[e]],
            d,
        ): s
        for e, d, s in zip(engine.edge, engine.day, engine.selectivity, strict=True)
    }
    for (reactor, target, network, day), value in zip(keys, expected, strict=True):
        day_number = (pd.Timestamp(day) - pd.Timestamp("1970-01-01")).days
        assert got[(reactor, target, network, day_number)] == value  # the same bits, not nearly


def test_a_reactor_reacting_many_times_on_one_edge_weighs_what_bincount_adds():
    """Nine equal terms added in turn need not be 9 x the term in floating point: the memo keeps the count
    and adds in turn, as the events did."""
    events = frame([("p1", "p2", "x", 0, False)] * 9 + [("p1", f"p{i}", "x", 0, False) for i in range(3, 7)])
    engine = EngagementEvents(events, load_formula("v1"))
    w = selectivity_weight(np.array([13]), load_formula("v1").section("features")["selectivity_exponent"])[0]
    one_by_one = np.bincount(np.zeros(9, dtype=int), weights=np.full(9, w))[0]
    assert engine.selectivity.max() == one_by_one
    assert engine.count.max() == 9
