"""Reference implementations the tests hold the production code against: clear, slow, one value
or one frame at a time. Production modules keep production code only."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from domain.ontology import Ontology
from domain.people import ADULT_AGE
from domain.score import _pagerank
from domain.topics import WindowEvidence, engagement_factor, text_topic_matches


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


def post_topic_matches(
    posts: pd.DataFrame, ontology: Ontology, *, hashtag_weight: float = 1.0, word_weight: float = 0.5
) -> pd.DataFrame:
    """post_key, person_id, topic_slug, strength: what each post is about. A post's text never
    changes, so a run matches each post once, however many days' windows it falls in."""
    found = text_topic_matches(posts["text"], ontology, hashtag_weight=hashtag_weight, word_weight=word_weight)
    taken = posts.iloc[found["text_index"].to_numpy(dtype=np.int64)]
    return pd.DataFrame(
        {
            "post_key": taken["post_key"].to_numpy(),
            "person_id": taken["person_id"].to_numpy(),
            "topic_slug": found["topic_slug"].to_numpy(),
            "strength": found["strength"].to_numpy(),
        }
    )


def network_influence(
    edges: pd.DataFrame, damping: float, tolerance: float, max_iterations: int
) -> tuple[pd.DataFrame, pd.Series]:
    """PageRank over the reactor -> author graph, unnormalised (every person starts at 1 - d).

    Returns the influence flowing along each edge (reactor_person_id, target_person_id, network,
    flow) and each person's rank. Incoming flow only adds, so engagement from anyone, however
    low their own rank, never subtracts.
    """
    if edges.empty:
        return pd.DataFrame(columns=["reactor_person_id", "target_person_id", "network", "flow"]), pd.Series(
            dtype=float
        )
    codes, persons = pd.factorize(pd.concat([edges["reactor_person_id"], edges["target_person_id"]], ignore_index=True))
    src, dst = codes[: len(edges)], codes[len(edges) :]
    rank, share, _ = _pagerank(
        src, dst, edges["weight"].to_numpy(dtype=float), len(persons), damping, tolerance, max_iterations
    )
    flows = edges[["reactor_person_id", "target_person_id", "network"]].copy()
    flows["flow"] = damping * share * rank[src]
    return flows, pd.Series(rank, index=persons, name="rank")
