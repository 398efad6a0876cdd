"""Why your score changed: the delta and the subscores that moved most."""

from __future__ import annotations

from datetime import date

import pandas as pd

from domain.score import score_changes

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
    assert row["top_reasons"] == "mastodon_reach +2.00; mastodon_amplification -1.00"  # unchanged ones are not reasons


def test_a_new_person_moves_from_zero_not_nan():
    today = day(date(2026, 1, 2), {"bob": (30.0, 1.0, 3.0, 0.0)})
    row = score_changes(today, day(date(2026, 1, 1), {})).iloc[0]
    assert pd.isna(row["previous_score"]) and pd.isna(row["delta"])
    assert row["top_reasons"] == "mastodon_amplification +3.00; mastodon_reach +1.00"


def test_a_network_new_today_moved_from_zero_and_no_move_says_so():
    yesterday = day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)}).drop(columns=["bluesky_reach"])
    today = day(date(2026, 1, 2), {"ann": (41.0, 10.0, 5.0, 2.0)})
    assert score_changes(today, yesterday).iloc[0]["top_reasons"] == "bluesky_reach +2.00"
    same = day(date(2026, 1, 2), {"ann": (40.0, 10.0, 5.0, 1.0)})
    assert (
        score_changes(same, day(date(2026, 1, 1), {"ann": (40.0, 10.0, 5.0, 1.0)})).iloc[0]["top_reasons"]
        == "no change"
    )


def test_delta_columns_are_doubles_even_without_any_yesterday():
    out = score_changes(day(date(2026, 1, 2), {"bob": (30.0, 1.0, 3.0, 0.0)}), day(date(2026, 1, 1), {}))
    assert str(out["previous_score"].dtype) == "Float64" and str(out["delta"].dtype) == "Float64"
