"""Daily topic leaderboards and their sashes.

Two boards per topic: the most influential people in the topic (gold) and the people most
vouched for in it by +K over the recent window (blue); being on both earns blue_and_gold. Ties
break by person_id, so a rerun of a day yields the same boards.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .kplus import in_window

SASHES = ("gold", "blue", "blue_and_gold", "none")
COLUMNS = ["day", "topic_slug", "person_id", "topic_score", "kplus_count", "rank_influence", "rank_kplus", "sash"]


def topic_leaderboards(
    topic_influence: pd.DataFrame,
    kplus_accepted: pd.DataFrame,
    day: date,
    board_size: int = 10,
    kplus_window_days: int = 90,
) -> pd.DataFrame:
    """One row per (day, topic_slug, person_id) for everyone with topic influence or +K in it.

    `topic_influence`: person_id, topic_slug, topic_score. `kplus_accepted`: the +K ledger's
    accepted gives (recipient_person_id, topic_slug, given_at). rank_influence ranks topic_score
    (descending) and rank_kplus the +K received in the `kplus_window_days` ending `day`; a rank is
    null when the person has no score / no +K there. Top `board_size` of each board get a sash.
    """
    influence = topic_influence[["person_id", "topic_slug", "topic_score"]]
    recent = kplus_accepted[in_window(kplus_accepted["given_at"], day, kplus_window_days)]
    kplus = (
        recent.groupby(["recipient_person_id", "topic_slug"]).size().rename("kplus_count").reset_index()
        .rename(columns={"recipient_person_id": "person_id"})
    )
    if kplus.empty:  # keep the key dtypes mergeable
        kplus = influence.iloc[:0][["person_id", "topic_slug"]].assign(kplus_count=0)
    board = influence.merge(kplus, on=["person_id", "topic_slug"], how="outer")
    if board.empty:
        return pd.DataFrame(columns=COLUMNS)
    board["kplus_count"] = board["kplus_count"].fillna(0).astype(int)
    board["rank_influence"] = _rank(board, "topic_score", board["topic_score"].notna())
    board["rank_kplus"] = _rank(board, "kplus_count", board["kplus_count"] > 0)
    gold = (board["rank_influence"] <= board_size).fillna(False).to_numpy(dtype=bool)
    blue = (board["rank_kplus"] <= board_size).fillna(False).to_numpy(dtype=bool)
    board["sash"] = np.select([gold & blue, gold, blue], ["blue_and_gold", "gold", "blue"], "none")
    board["day"] = day
    return board[COLUMNS].sort_values(["topic_slug", "person_id"], ignore_index=True)


def _rank(board: pd.DataFrame, column: str, eligible: pd.Series) -> pd.Series:
    """1.. within each topic by `column` descending, ties by person_id; null when not eligible."""
    ranked = board[eligible].sort_values(["topic_slug", column, "person_id"], ascending=[True, False, True])
    ranks = ranked.groupby("topic_slug").cumcount() + 1
    return ranks.reindex(board.index).astype("Int64")
