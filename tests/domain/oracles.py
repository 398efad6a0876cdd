"""Reference implementations the tests hold the production code against: clear, slow, one value
or one frame at a time. Production modules keep production code only."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from domain.ontology import Ontology
from domain.people import ADULT_AGE
from domain.topics import WindowEvidence, engagement_factor, post_topic_matches


def age_on(birth_date: date, day: date) -> int:
    """Whole years completed on `day`. Someone born on 29 February completes a year on
    1 March in common years (their birthday has not happened on 28 February)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_adult(birth_date: date, day: date) -> bool:
    """18 or older on `day`: true from the 18th birthday itself."""
    return age_on(birth_date, day) >= ADULT_AGE


def topic_evidence(
    posts: pd.DataFrame,
    ontology: Ontology,
    mentions: pd.DataFrame | None = None,
    *,
    hashtag_weight: float = 1.0,
    word_weight: float = 0.5,
    engagement_floor: float = 0.1,
    mention_weight: float = 0.5,
    rollup_decay: float = 0.5,
) -> pd.DataFrame:
    """Evidence per (person_id, topic_slug), rolled up the hierarchy.

    `posts`: person_id (author), post_key, text, reactions (count the post earned).
    `mentions` (optional): post_key, person_id (the person mentioned in that post); a person
    mentioned in posts about a topic is associated with it, at `mention_weight` of the post.
    Each post's weight per topic is match strength x (log1p(reactions) + engagement_floor).
    `direct_evidence` is the topic's own; `evidence` adds every descendant's direct evidence x
    rollup_decay ** distance, each ancestor once even when reached through several parents.
    """
    matches = post_topic_matches(posts, ontology, hashtag_weight=hashtag_weight, word_weight=word_weight)
    earned = matches["post_key"].map(posts.drop_duplicates("post_key").set_index("post_key")["reactions"])
    weight = matches["strength"].to_numpy(dtype=float) * engagement_factor(earned, engagement_floor)
    mentions = mentions if mentions is not None else pd.DataFrame({"post_key": [], "person_id": []})
    every_day = WindowEvidence(
        matches,
        np.zeros(len(matches)),
        mentions,
        np.zeros(len(mentions)),
        ontology,
        mention_weight=mention_weight,
        rollup_decay=rollup_decay,
    )
    return every_day.evidence(0, 1, weight)  # one window holding every post and mention


def assignment_precision(assigned: pd.DataFrame, truth: pd.DataFrame, top_k: int = 1) -> float:
    """Share of people's top `top_k` assigned topics (by evidence) that are among their true topics.

    `truth`: person_id, topic_slug (one row per true topic), or person_id, topics (list).
    Only people with both assigned and true topics count; NaN when there are none.
    """
    if "topic_slug" not in truth.columns:
        truth = truth[["person_id", "topics"]].explode("topics").rename(columns={"topics": "topic_slug"})
    truth = truth.dropna(subset=["topic_slug"])
    top = (
        assigned[assigned["person_id"].isin(truth["person_id"])]
        .sort_values(["person_id", "evidence", "topic_slug"], ascending=[True, False, True])
        .groupby("person_id")
        .head(top_k)
    )
    if top.empty:
        return float("nan")
    hits = pd.MultiIndex.from_frame(top[["person_id", "topic_slug"]]).isin(
        pd.MultiIndex.from_frame(truth[["person_id", "topic_slug"]])
    )
    return float(hits.mean())
