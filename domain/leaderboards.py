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
from .privacy import minors_on

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
        recent.groupby(["recipient_person_id", "topic_slug"])
        .size()
        .rename("kplus_count")
        .reset_index()
        .rename(columns={"recipient_person_id": "person_id"})
    )
    if kplus.empty:  # keep the key dtypes mergeable
        kplus = influence.iloc[:0][["person_id", "topic_slug"]].assign(kplus_count=0)
    board = influence.merge(kplus, on=["person_id", "topic_slug"], how="outer")
    if board.empty:
        return pd.DataFrame(columns=COLUMNS)
    board["kplus_count"] = board["kplus_count"].fillna(0).astype(int)
    # strings ordered once as sorted integer codes: a day's board has a row per person and topic
    topic, person = (pd.factorize(board[c], sort=True)[0] for c in ("topic_slug", "person_id"))
    board["rank_influence"] = _rank(topic, person, board["topic_score"], board["topic_score"].notna())
    board["rank_kplus"] = _rank(topic, person, board["kplus_count"], board["kplus_count"] > 0)
    gold = (board["rank_influence"] <= board_size).fillna(False).to_numpy(dtype=bool)
    blue = (board["rank_kplus"] <= board_size).fillna(False).to_numpy(dtype=bool)
    board["sash"] = np.select([gold & blue, gold, blue], ["blue_and_gold", "gold", "blue"], "none")
    board["day"] = day
    return board[COLUMNS].iloc[np.lexsort((person, topic))].reset_index(drop=True)


def _rank(topic: np.ndarray, person: np.ndarray, value: pd.Series, eligible: pd.Series) -> pd.array:
    """1.. within each topic by `value` descending, ties by person_id; null when not eligible.
    `topic` and `person` are codes in sorted order of the slugs and ids."""
    rows = np.flatnonzero(eligible.to_numpy(dtype=bool))
    values = value.to_numpy(dtype=float)[rows]
    ordered = rows[np.lexsort((person[rows], -values, topic[rows]))]
    position = np.arange(len(ordered))
    new_topic = np.r_[True, topic[ordered][1:] != topic[ordered][:-1]] if len(ordered) else np.zeros(0, dtype=bool)
    first_of_topic = np.maximum.accumulate(np.where(new_topic, position, 0)) if len(ordered) else position
    ranks = np.zeros(len(topic), dtype=np.int64)
    ranks[ordered] = position - first_of_topic + 1
    return pd.arrays.IntegerArray(ranks, ranks == 0)  # 0: not ranked, so null


def sashed_boards_on(
    influence: pd.DataFrame,
    accepted: pd.DataFrame,
    profiles: pd.DataFrame,
    day: date,
    *,
    board_size: int,
    kplus_window_days: int,
) -> pd.DataFrame:
    """The day's topic leaderboard rows that carry a sash; minors' +K never places them."""
    accepted = accepted[~accepted["recipient_person_id"].isin(minors_on(profiles, day))]
    board = topic_leaderboards(influence, accepted, day, board_size=board_size, kplus_window_days=kplus_window_days)
    return board[board["sash"] != "none"]
