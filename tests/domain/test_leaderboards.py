"""Topic leaderboards: gold for influence, blue for +K, both for blue_and_gold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from domain.leaderboards import SASHES, topic_leaderboards

DAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)


def influence(*rows):
    return pd.DataFrame(rows, columns=["person_id", "topic_slug", "topic_score"])


def kplus(*rows):
    """rows: (recipient, topic, days_ago)."""
    return pd.DataFrame(
        {
            "give_id": [f"g{i}" for i in range(len(rows))],
            "giver_person_id": ["giver"] * len(rows),
            "recipient_person_id": [r[0] for r in rows],
            "topic_slug": [r[1] for r in rows],
            "given_at": pd.to_datetime([NOON - timedelta(days=r[2]) for r in rows], utc=True),
        }
    )


def sashes(board, topic="python"):
    b = board[board["topic_slug"] == topic]
    return dict(zip(b["person_id"], b["sash"]))


def test_each_sash_case():
    board = topic_leaderboards(
        influence(
            ("gold", "python", 90.0), ("both", "python", 80.0), ("none", "python", 10.0), ("blue", "python", 5.0)
        ),
        kplus(("both", "python", 1), ("blue", "python", 2), ("blue", "python", 3)),
        DAY,
        board_size=2,
    )
    assert sashes(board) == {"gold": "gold", "both": "blue_and_gold", "none": "none", "blue": "blue"}
    assert set(board["sash"]) <= set(SASHES)
    row = board.set_index("person_id")
    assert row.loc["blue", "rank_kplus"] == 1 and row.loc["both", "rank_kplus"] == 2
    assert pd.isna(row.loc["gold", "rank_kplus"]) and row.loc["none", "rank_influence"] == 3
    assert (board["day"] == DAY).all() and not board.duplicated(["day", "topic_slug", "person_id"]).any()


def test_kplus_only_recipients_appear_without_an_influence_rank():
    board = topic_leaderboards(influence(("a", "python", 50.0)), kplus(("newbie", "python", 0)), DAY)
    row = board.set_index("person_id").loc["newbie"]
    assert row["sash"] == "blue" and pd.isna(row["rank_influence"]) and row["kplus_count"] == 1


def test_kplus_outside_the_window_or_in_the_future_does_not_count():
    board = topic_leaderboards(
        influence(("a", "python", 50.0)),
        kplus(("old", "python", 90), ("edge", "python", 89), ("future", "python", -1)),
        DAY,
        kplus_window_days=90,
    )
    assert sashes(board) == {"a": "gold", "edge": "blue"}


def test_boards_are_per_topic_and_ties_break_by_person_id():
    board = topic_leaderboards(
        influence(("b", "python", 50.0), ("a", "python", 50.0), ("c", "python", 50.0), ("c", "food", 1.0)),
        kplus(("z", "python", 1), ("y", "python", 1)),
        DAY,
        board_size=2,
    )
    assert sashes(board) == {"a": "gold", "b": "gold", "c": "none", "y": "blue", "z": "blue"}
    assert sashes(board, "food") == {"c": "gold"}
    py = board[board["topic_slug"] == "python"].set_index("person_id")
    assert py.loc[["a", "b", "c"], "rank_influence"].tolist() == [1, 2, 3]
    assert py.loc[["y", "z"], "rank_kplus"].tolist() == [1, 2]


def test_empty_inputs_give_an_empty_board():
    board = topic_leaderboards(influence(), kplus(), DAY)
    assert board.empty and "sash" in board.columns
