"""A daily run carries yesterday's topic evidence forward (TopicState.next_day, carried_evidence)
instead of re-reading the window: the carried day must equal the whole window's, to the last bit."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.score import day_numbers
from domain.topics import KeySums, TopicDays, TopicState, carried_evidence, term_limbs

from .test_topics import ONTO

RULES = {
    "engagement_floor": 0.1,
    "mention_weight": 0.5,
    "rollup_decay": 0.5,
    "expert_top_pct": 0.1,
    "min_evidence": 1.0,
}
START = date(2026, 3, 1)
PEOPLE = ["ann", "bob", "cat", "dan"]
NO_PROFILES = pd.DataFrame({"person_id": pd.Series(dtype=str), "birth_date": pd.Series(dtype=object)})
NO_EDITS = pd.DataFrame(columns=["person_id", "editor_person_id", "topic_slug", "action", "edited_day"])


def world(data, days: int):
    """Posts (with their topic matches), reactions and mentions over `days` days, each event on
    or after its post's day and landed (`landed`) that day or up to two days later; a post may have
    no author known (a null person)."""
    n_posts = data.draw(st.integers(1, 14))
    posts = [
        (10_000 + 7 * i, data.draw(st.integers(0, days - 1)), data.draw(st.sampled_from([*PEOPLE, None])))
        for i in range(n_posts)
    ]
    matches = pd.DataFrame(
        [
            (post, START + timedelta(days=day), author, slug, data.draw(st.sampled_from([0.5, 1.0])))
            for post, day, author in posts
            for slug in sorted(data.draw(st.sets(st.sampled_from(sorted(ONTO.slugs)), max_size=3)))
        ],
        columns=["post_id", "post_day", "person_id", "topic_slug", "strength"],
    )
    event = st.tuples(st.sampled_from(posts), st.integers(0, days - 1), st.sampled_from([0, 0, 1, 2]))
    reacted = pd.DataFrame(
        [
            (post, START + timedelta(days=max(day, at)), START + timedelta(days=max(day, at) + late), n)
            for (post, day, _), at, late in data.draw(st.lists(event, max_size=25))
            for n in [data.draw(st.integers(1, 40))]
        ],
        columns=["post_id", "event_day", "landed", "reactions"],
    )
    mentions = pd.DataFrame(
        [
            (post, who, START + timedelta(days=max(day, at)), START + timedelta(days=max(day, at) + late))
            for (post, day, _), at, late in data.draw(st.lists(event, max_size=15))
            for who in [data.draw(st.sampled_from([*PEOPLE, None]))]
        ],
        columns=["post_id", "person_id", "event_day", "landed"],
    )
    return matches, reacted, mentions


def landed_by(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """The events a run on `day` sees: those landed by then."""
    return frame[frame["landed"] <= day].drop(columns="landed")


def run_through(matches, reacted, mentions, first: date, last: date, window: int) -> TopicDays:
    """What a run of [first, last] reads: the window's matches, the reactions and mentions to date."""
    since = first - timedelta(days=window - 1)
    m = matches[(matches["post_day"] >= since) & (matches["post_day"] <= last)]
    m = m.sort_values(["post_id", "topic_slug"], ignore_index=True)
    r = reacted[
        (reacted["event_day"] >= since) & (reacted["event_day"] <= last) & reacted["post_id"].isin(m["post_id"])
    ]
    s = mentions[
        (mentions["event_day"] >= since) & (mentions["event_day"] <= last) & mentions["post_id"].isin(m["post_id"])
    ]
    return TopicDays(m, r, s.reset_index(drop=True), NO_PROFILES, NO_EDITS, ONTO, RULES, window)


def counted_today(events: pd.DataFrame, day: date) -> pd.DataFrame:
    """The events a run on `day` counts that the day before's did not: the day's own, and the earlier
    days' that landed today (late)."""
    seen = (events["event_day"] == day) | ((events["event_day"] < day) & (events["landed"] == day))
    return events[seen & (events["landed"] <= day)].drop(columns="landed")


def carry(state: TopicState, matches, reacted, mentions, day: date, window: int):
    """What a daily run does with yesterday's state: the touched posts' rows and pairs, today's
    new matches, reactions and mentions, applied to yesterday's key sums."""
    new = matches[matches["post_day"] == day]
    today_reacted = counted_today(reacted, day)
    today_mentions = counted_today(mentions, day)
    leaving = state.rows.loc[state.rows["post_day"] <= day - timedelta(days=window), "post_id"]
    touched = set(leaving) | set(today_reacted["post_id"]) | set(today_mentions["post_id"])
    touched_state = TopicState(
        state.rows[state.rows["post_id"].isin(touched)], state.pairs[state.pairs["post_id"].isin(touched)]
    )
    before, after = touched_state.next_day(day, window, new, today_reacted, today_mentions)
    changed, evidence = carried_evidence(state.keys, before, after, ONTO, RULES)
    unchanged = ~pd.MultiIndex.from_frame(state.keys[["person_id", "topic_slug"]].astype(str)).isin(
        pd.MultiIndex.from_frame(changed[["person_id", "topic_slug"]].astype(str))
    )
    keys = pd.concat([state.keys[unchanged], changed[changed["terms"] > 0]], ignore_index=True)
    rows = pd.concat([state.rows[~state.rows["post_id"].isin(touched)], after.rows], ignore_index=True)
    pairs = pd.concat([state.pairs[~state.pairs["post_id"].isin(touched)], after.pairs], ignore_index=True)
    return TopicState(rows, pairs, keys), evidence


def by_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in key order, typed (an empty frame has object columns)."""
    types = {c: (str if c in ("person_id", "topic_slug") else np.int64 if c == "terms" else float) for c in frame}
    return frame.astype(types).sort_values(["person_id", "topic_slug"], ignore_index=True)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_carried_day_is_the_whole_windows_day_to_the_last_bit(data):
    """Day after day, yesterday's state carried forward gives the evidence (and the key sums) a run
    reading the whole window that day gives: posts leaving the window, earning reactions (some
    landing late) and being mentioned. With nothing late, a backfill's run gives it too."""
    days, window = 9, data.draw(st.integers(1, 4))
    matches, reacted, mentions = world(data, days)
    last = START + timedelta(days=days - 1)
    state = run_through(matches, landed_by(reacted, START), landed_by(mentions, START), START, START, window)
    state = state.state(START)
    backfill = run_through(matches, landed_by(reacted, last), landed_by(mentions, last), START, last, window)
    on_time = (reacted["landed"] == reacted["event_day"]).all() and (mentions["landed"] == mentions["event_day"]).all()
    for offset in range(1, days):
        day = START + timedelta(days=offset)
        state, carried = carry(state, matches, reacted, mentions, day, window)
        alone = run_through(matches, landed_by(reacted, day), landed_by(mentions, day), day, day, window)
        pd.testing.assert_frame_equal(by_key(carried), by_key(alone.engine.evidence(*_on(alone, day, window))))
        pd.testing.assert_frame_equal(by_key(state.keys), by_key(alone.state(day).keys))
        if on_time:
            backfilled = backfill.engine.evidence(*_on(backfill, day, window))
            pd.testing.assert_frame_equal(by_key(carried), by_key(backfilled))


def _on(days: TopicDays, day: date, window: int):
    """WindowEvidence.evidence's arguments for `day` of a run: its day number, the window, the weights."""
    today = day_numbers([day])[0]
    return today, window, days._weights(today)[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 2000.0), max_size=60), st.randoms(use_true_random=False))
def test_key_sums_are_the_same_in_any_order_and_within_a_rounding_of_the_sum(values, rng):
    """Exact sums: shuffled, or carried (the whole minus some terms plus them again), the same bits;
    and the true sum to within a 2^-53 rounding per term."""
    keys = np.arange(len(values)) % 3
    whole = KeySums.of(keys, values, 3)
    order = list(range(len(values)))
    rng.shuffle(order)
    shuffled = KeySums.of(keys[order], np.asarray(values)[order], 3)
    some = order[: len(order) // 2]
    part = KeySums.of(keys[some], np.asarray(values)[some], 3)
    carried = KeySums(whole.limbs - part.limbs + part.limbs, whole.count)
    for other in (shuffled, carried):
        assert whole.value().tobytes() == other.value().tobytes()
    exact = np.bincount(keys, weights=np.asarray(values, dtype=np.longdouble).astype(float), minlength=3)
    np.testing.assert_allclose(whole.value(), exact, rtol=1e-12, atol=len(values) * 2.0**-52)


def test_a_term_that_cannot_be_summed_exactly_is_named():
    with pytest.raises(ValueError, match=r"term -1\.0 is outside"):
        term_limbs([1.0, -1.0])
    with pytest.raises(ValueError, match="term nan"):
        term_limbs([float("nan")])
