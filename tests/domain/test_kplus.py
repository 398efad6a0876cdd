"""The +K rules, one at a time, and the ledger's bookkeeping as properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.kplus import REJECT_REASONS, kplus_ledger, kplus_points
from domain.ontology import load_default_ontology

ONTO = load_default_ontology()
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PEOPLE = ["ann", "bob", "cat", "dan"]
PROFILE = pd.DataFrame([(p, t) for p in PEOPLE for t in ("python", "food")], columns=["person_id", "topic_slug"])


def gives(*rows):
    """rows: (giver, recipient, topic, given_at[, give_id])."""
    return pd.DataFrame(
        [(r[4] if len(r) > 4 else f"g{i:03d}", r[0], r[1], r[2], r[3]) for i, r in enumerate(rows)],
        columns=["give_id", "giver_person_id", "recipient_person_id", "topic_slug", "given_at"],
    )


def ledger(frame, **kw):
    return kplus_ledger(frame, PROFILE, ontology=ONTO, **kw)


def reasons(rejected):
    return dict(zip(rejected["give_id"], rejected["reason"]))


def test_a_valid_give_is_accepted():
    accepted, rejected = ledger(gives(("ann", "bob", "python", T0)))
    assert accepted["give_id"].tolist() == ["g000"] and rejected.empty
    assert list(rejected.columns) == list(accepted.columns) + ["reason"]


def test_the_eleventh_give_of_a_utc_day_is_refused():
    # one recipient, a different topic each time, so no give trips the cooldown
    rows = [
        ("ann", "bob", t, T0 + timedelta(minutes=i))
        for i, t in enumerate(
            ["python", "food", "ai", "music", "film", "books", "gaming", "space", "travel", "cycling", "running"]
        )
    ]
    profile = pd.DataFrame({"person_id": "bob", "topic_slug": [r[2] for r in rows]})
    accepted, rejected = kplus_ledger(gives(*rows), profile, ontology=ONTO)
    assert len(accepted) == 10
    assert reasons(rejected) == {"g010": "daily_limit"}


def test_daily_limit_orders_by_given_at_then_give_id_and_resets_at_utc_midnight():
    topics = [
        "python",
        "food",
        "ai",
        "music",
        "film",
        "books",
        "gaming",
        "space",
        "travel",
        "cycling",
        "running",
        "climate",
    ]
    profile = pd.DataFrame({"person_id": "bob", "topic_slug": topics})
    late = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
    rows = [("ann", "bob", t, late, f"z{i:02d}") for i, t in enumerate(topics[:10])]
    rows.append(("ann", "bob", topics[10], late, "a00"))  # same instant, sorts first
    rows.append(("ann", "bob", topics[11], late + timedelta(minutes=2)))  # next UTC day
    accepted, rejected = kplus_ledger(gives(*rows), profile, ontology=ONTO)
    assert reasons(rejected) == {"z09": "daily_limit"}
    assert "a00" in set(accepted["give_id"]) and len(accepted) == 11


def test_history_counts_towards_the_same_days_limit():
    topics = ["python", "food", "ai", "music", "film", "books", "gaming", "space", "travel", "cycling", "running"]
    profile = pd.DataFrame({"person_id": "bob", "topic_slug": topics})
    history = gives(*[("ann", "bob", t, T0 - timedelta(hours=1), f"h{i}") for i, t in enumerate(topics[:10])])
    accepted, rejected = kplus_ledger(gives(("ann", "bob", "running", T0)), profile, history=history, ontology=ONTO)
    assert accepted.empty and reasons(rejected) == {"g000": "daily_limit"}


def test_self_give_is_refused():
    accepted, rejected = ledger(gives(("ann", "ann", "python", T0)))
    assert accepted.empty and reasons(rejected) == {"g000": "self_give"}


def test_topic_not_on_the_recipients_profile_is_refused():
    accepted, rejected = ledger(gives(("ann", "bob", "ai", T0)))
    assert accepted.empty and reasons(rejected) == {"g000": "topic_not_on_profile"}


def test_topic_outside_the_ontology_is_refused():
    accepted, rejected = ledger(gives(("ann", "bob", "underwater-basket-weaving", T0)))
    assert accepted.empty and reasons(rejected) == {"g000": "unknown_topic"}


def test_repeat_within_the_cooldown_is_refused_and_just_after_it_accepted():
    accepted, rejected = ledger(
        gives(
            ("ann", "bob", "python", T0),
            ("ann", "bob", "python", T0 + timedelta(days=7) - timedelta(seconds=1)),
            ("ann", "bob", "python", T0 + timedelta(days=7)),
            ("ann", "bob", "food", T0 + timedelta(minutes=1)),  # another topic: its own cooldown
            ("cat", "bob", "python", T0 + timedelta(minutes=1)),  # another giver
        )
    )
    assert reasons(rejected) == {"g001": "cooldown"}
    assert sorted(accepted["give_id"]) == ["g000", "g002", "g003", "g004"]


def test_cooldown_runs_from_accepted_gives_in_history():
    history = gives(("ann", "bob", "python", T0 - timedelta(days=3), "old"))
    accepted, rejected = ledger(
        gives(("ann", "bob", "python", T0), ("ann", "bob", "python", T0 + timedelta(days=4))), history=history
    )
    assert reasons(rejected) == {"g000": "cooldown"}
    assert accepted["give_id"].tolist() == ["g001"]


def test_naive_timestamps_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger(gives(("ann", "bob", "python", datetime(2026, 11, 20, 9))))


def test_kplus_points_counts_the_window_and_moves_scores_only_when_enabled():
    accepted = gives(
        ("ann", "bob", "python", T0),
        ("cat", "bob", "food", T0 - timedelta(days=89)),
        ("dan", "bob", "food", T0 - timedelta(days=90)),
        ("ann", "cat", "food", T0 + timedelta(days=1)),
    )
    off = kplus_points(accepted, T0.date())
    assert off.to_dict("records") == [{"person_id": "bob", "kplus_count": 2, "score_adjustment": 0.0}]
    on = kplus_points(accepted, T0.date(), enabled=True, cap=0.15, points_per_give=0.1)
    assert on["score_adjustment"].tolist() == [pytest.approx(0.15)]
    assert kplus_points(accepted.iloc[:0], T0.date()).empty


people = st.sampled_from(PEOPLE)
topic = st.sampled_from(["python", "food", "ai", "not-a-topic"])
give_rows = st.lists(st.tuples(people, people, topic, st.integers(min_value=0, max_value=3 * 24 * 60)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(give_rows)
def test_ledger_partitions_gives_and_respects_the_limits(rows):
    frame = gives(*[(g, r, t, T0 + timedelta(minutes=m)) for g, r, t, m in rows])
    accepted, rejected = ledger(frame, max_per_giver_per_day=3, cooldown_days=1)
    assert len(accepted) + len(rejected) == len(frame)
    assert set(accepted["give_id"]) | set(rejected["give_id"]) == set(frame["give_id"])
    assert not set(accepted["give_id"]) & set(rejected["give_id"])
    assert set(rejected["reason"]) <= set(REJECT_REASONS)
    if len(accepted):
        per_day = accepted.groupby(["giver_person_id", accepted["given_at"].dt.date]).size()
        assert per_day.max() <= 3
        assert (accepted["giver_person_id"] != accepted["recipient_person_id"]).all()
        for _, grp in accepted.groupby(["giver_person_id", "recipient_person_id", "topic_slug"]):
            assert (grp["given_at"].sort_values().diff().dropna() >= pd.Timedelta(days=1)).all()


def test_the_window_is_of_utc_days_whatever_the_timezone():
    from domain.kplus import in_window

    late_evening_in_new_york = pd.Series(pd.to_datetime(["2026-03-01 23:30"]).tz_localize("America/New_York"))
    assert in_window(late_evening_in_new_york, date(2026, 3, 2), 1).tolist() == [True]  # 04:30 UTC on 2 March
    assert in_window(late_evening_in_new_york, date(2026, 3, 1), 1).tolist() == [False]
    assert in_window(late_evening_in_new_york, date(2026, 3, 31), 30).tolist() == [True]
    assert in_window(late_evening_in_new_york, date(2026, 4, 1), 30).tolist() == [False]


def test_one_walk_over_many_days_equals_day_by_day_with_history():
    """The +K asset judges a run of days in one walk (on_profile given per give); day by day, each
    day seeing the accepted gives of the cooldown before it, the ledger is the same."""
    import numpy as np

    rng = np.random.default_rng(3)
    topics = ["python", "food", "ai", "unknown-topic"]
    n = 600
    frame = pd.DataFrame(
        {
            "give_id": [f"g{i:04d}" for i in range(n)],
            "giver_person_id": rng.choice(PEOPLE[:2], n),
            "recipient_person_id": rng.choice(PEOPLE, n),
            "topic_slug": rng.choice(topics, n),
            "given_at": [T0 + timedelta(hours=float(h)) for h in rng.uniform(0, 24 * 12, n)],
        }
    )
    frame["given_day"] = [t.date() for t in frame["given_at"]]
    triples = list(zip(frame["recipient_person_id"], frame["topic_slug"], frame["given_day"]))
    shown = {t: rng.random() < 0.8 for t in sorted(set(triples))}  # each day's profiles
    frame["on_profile"] = [shown[t] for t in triples]
    rules = dict(max_per_giver_per_day=5, cooldown_days=2.5, ontology=ONTO)
    whole, whole_rejected = kplus_ledger(frame, None, **rules)
    accepted_days, rejected_days = [], []
    for day in sorted(frame["given_day"].unique()):
        todays = frame[frame["given_day"] == day]
        listed = todays.loc[todays["on_profile"], ["recipient_person_id", "topic_slug"]]
        history = pd.concat(accepted_days) if accepted_days else None
        a, r = kplus_ledger(
            todays.drop(columns="on_profile"),
            listed.set_axis(["person_id", "topic_slug"], axis=1),
            history=history,
            **rules,
        )
        accepted_days.append(a)
        rejected_days.append(r)
    day_by_day = pd.concat(accepted_days, ignore_index=True)
    assert len(whole) and set(whole_rejected["reason"]) >= {"cooldown", "daily_limit", "topic_not_on_profile"}
    pd.testing.assert_frame_equal(whole, day_by_day)
    pd.testing.assert_frame_equal(whole_rejected, pd.concat(rejected_days, ignore_index=True))
