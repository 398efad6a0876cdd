"""Why your score changed: the delta and, in score points, the subscores that moved most."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from domain.score import score_changes, score_reasons, subscore_points

COLUMNS = ["mastodon_reach", "mastodon_amplification", "bluesky_reach"]


def day(when: date, rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    """rows: person -> (score, mastodon_reach, mastodon_amplification, bluesky_reach)."""
    return pd.DataFrame(
        [
            {"person_id": p, "day": when, "formula_version": "v1", "score": v[0], **dict(zip(COLUMNS, v[1:]))}
            for p, v in rows.items()
        ],
        columns=["person_id", "day", "formula_version", "score", *COLUMNS],
    )


def test_delta_and_the_moves_that_explain_it():
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)})
    today = day(date(2026, 1, 2), {"ann": (43.5, 12.0, 4.0, 1.0)})
    row = score_changes(today, yesterday).iloc[0]
    assert row["previous_score"] == 40.0 and row["delta"] == 3.5
    # points: 40 x (10, 5, 1) / 16 yesterday, 43.5 x (12, 4, 1) / 17 today; bluesky's share barely moved
    assert (
        row["top_reasons"]
        == "mastodon reach +5.71 points; mastodon amplification -2.26 points; bluesky reach +0.06 points"
    )


def test_reasons_are_score_points_that_add_up_to_the_delta():
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0), "bob": (20.0, 0.0, 2.0, 0.0)})
    today = day(date(2026, 1, 2), {"ann": (43.5, 12.0, 4.0, 1.0), "bob": (25.0, 1.0, 2.0, 3.0)})
    reasons = score_reasons(today, yesterday)
    moved = reasons.groupby("person_id")["points"].sum()
    assert moved["ann"] == pytest.approx(3.5) and moved["bob"] == pytest.approx(5.0)
    points = subscore_points(today)
    assert points.sum(axis=1).tolist() == pytest.approx([43.5, 25.0])  # a person's points are their score
    assert set(reasons["subscore"]) <= {"reach", "amplification"} and set(reasons["network"]) == {"mastodon", "bluesky"}


def test_a_new_person_moves_from_zero_not_nan():
    today = day(date(2026, 1, 2), {"bob": (30.0, 1.0, 3.0, 0.0)})
    row = score_changes(today, day(date(2026, 1, 1), {})).iloc[0]
    assert pd.isna(row["previous_score"]) and pd.isna(row["delta"])
    assert row["top_reasons"] == "mastodon amplification +22.50 points; mastodon reach +7.50 points"


def test_a_network_new_today_moved_from_zero_and_no_move_says_so():
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)}).drop(columns=["bluesky_reach"])
    today = day(date(2026, 1, 2), {"ann": (41.0, 10.0, 5.0, 2.0)})
    # 41 x 2/17 points from the new network; the others' shares shrank: 41 x 10/17 - 40 x 10/15 = -2.55
    assert score_changes(today, yesterday).iloc[0]["top_reasons"] == (
        "bluesky reach +4.82 points; mastodon reach -2.55 points; mastodon amplification -1.27 points"
    )
    same = day(date(2026, 1, 2), {"ann": (40.0, 10.0, 5.0, 1.0)})
    assert (
        score_changes(same, day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)})).iloc[0]["top_reasons"]
        == "no change"
    )


def test_delta_columns_are_doubles_even_without_any_yesterday():
    out = score_changes(day(date(2026, 1, 2), {"bob": (30.0, 1.0, 3.0, 0.0)}), day(date(2026, 1, 1), {}))
    assert str(out["previous_score"].dtype) == "Float64" and str(out["delta"].dtype) == "Float64"


def test_a_discount_that_took_more_points_is_a_reason_ranked_by_its_move():
    """v2 rows carry the points each discount took: its change is a candidate move, -(today - yesterday),
    ranked with the subscores by size; the subscores' moves alone still add up to the delta."""
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0), "bob": (20.0, 0.0, 2.0, 0.0)})
    today = day(date(2026, 1, 2), {"ann": (43.5, 12.0, 4.0, 1.0), "bob": (20.0, 0.0, 2.0, 0.0)})
    yesterday = yesterday.assign(ring_discount_points=[1.5, 0.0], indiscriminate_discount_points=[0.0, 0.0])
    today = today.assign(ring_discount_points=[1.0, 4.1], indiscriminate_discount_points=[0.0, 0.25])
    reasons = score_reasons(today, yesterday, top_n=10)
    ann = reasons[reasons["person_id"] == "ann"]
    assert ann[ann["network"] != "all"]["points"].sum() == pytest.approx(3.5)  # the delta, without the discount
    assert ann[ann["network"] == "all"]["points"].tolist() == pytest.approx([0.5])
    lines = score_changes(today, yesterday).set_index("person_id")["top_reasons"]
    # ann's ring discount shrank by 0.5 (a +0.50 move), after her two bigger subscore moves
    assert lines["ann"] == (
        "mastodon reach +5.71 points; mastodon amplification -2.26 points; engagement-ring discount +0.50 points"
    )
    # bob's score did not move, but discounts took 4.10 and 0.25 more points than yesterday
    assert lines["bob"] == "engagement-ring discount -4.10 points; indiscriminate-reactor discount -0.25 points"
    assert set(reasons[reasons["network"] == "all"]["subscore"]) == {"ring_discount", "indiscriminate_reactors"}


def test_a_discount_new_today_moves_from_zero_and_v1_rows_give_no_discount_reason():
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)})
    today = day(date(2026, 1, 2), {"ann": (40.0, 10.0, 5.0, 1.0)}).assign(kplus_clique_discount_points=[0.3])
    assert score_changes(today, yesterday).iloc[0]["top_reasons"] == "+K-clique discount -0.30 points"
    unset = today.assign(kplus_clique_discount_points=[None])  # a NULL in the column: nothing taken
    assert score_changes(unset, yesterday).iloc[0]["top_reasons"] == "no change"
    plain = day(date(2026, 1, 2), {"ann": (43.5, 12.0, 4.0, 1.0)})
    assert "all" not in set(score_reasons(plain, yesterday)["network"])


def test_kplus_points_are_a_move_of_their_own_and_the_subscores_share_the_rest():
    """+K's points are added after calibration: the subscores' points share score - kplus_points,
    and +K's move joins theirs, so together they still add up to the delta."""
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)}).assign(kplus_points=[0.5])
    today = day(date(2026, 1, 2), {"ann": (42.0, 10.0, 5.0, 1.0)}).assign(kplus_points=[2.5])
    assert subscore_points(today).sum(axis=1).tolist() == pytest.approx([39.5])  # the score without +K
    reasons = score_reasons(today, yesterday, top_n=10)
    assert reasons["points"].sum() == pytest.approx(2.0)
    # 40 = 39.5 + 0.5 before and after (the subscores' points did not move), +K gave 2 more points
    assert score_changes(today, yesterday).iloc[0]["top_reasons"] == "accepted +K +2.00 points"
