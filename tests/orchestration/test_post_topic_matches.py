"""person_topics keeps each text's topic matches: a day matches only texts it has not seen, and
what it reads back is exactly what matching every post afresh gives."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from domain.ontology import Ontology, load_default_ontology
from domain.topics import matcher_fingerprint, text_topic_matches
from orchestration.warehouse import TopicMatchCache
from tests.domain.oracles import post_topic_matches

ONTOLOGY = load_default_ontology()

POSTS = pd.DataFrame(
    {
        "post_key": ["m:1", "m:2", "b:3", "b:4", "b:5", "m:6"],
        "person_id": ["ann", "bob", "ann", "cat", "bob", "cat"],
        "post_day": pd.to_datetime(
            ["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-02", "2026-03-03", "2026-03-03"]
        ).date,
        "text": [
            "#python tips",
            "nothing at all",
            "#python tips",
            "data science with #python",
            None,
            "#cooking recipes",
        ],
    }
)
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 3)


@pytest.fixture
def conn():
    with duckdb.connect(":memory:") as c:
        c.execute("create schema intermediate")
        c.register("posts_frame", POSTS)
        c.execute("create table intermediate.int_post_engagement as select * from posts_frame")
        yield c


def window_matches(conn, since, until, hashtag_weight, word_weight, ontology=ONTOLOGY, seen=None):
    """What person_topics does: the cache of `conn` under this matcher, matching with the domain's matcher."""
    weights = {"hashtag_weight": hashtag_weight, "word_weight": word_weight}

    def match(texts):
        (seen if seen is not None else []).extend(texts)  # record every text handed to the matcher
        return text_topic_matches(texts, ontology, **weights)

    return TopicMatchCache(conn, matcher_fingerprint(ontology, **weights)).window_matches(since, until, match)


COLUMNS = ["post_key", "person_id", "topic_slug", "strength"]


def keyed(conn, matches: pd.DataFrame) -> pd.DataFrame:
    """window_matches' rows with their post_key, in post_key order (it orders by post_id); its
    persons and topics arrive as categoricals over their sorted values, compared here as strings."""
    keys = conn.execute("select distinct post_id, post_key from window_topic_matches").df()
    assert not keys["post_id"].duplicated().any() and not keys["post_key"].duplicated().any()
    for column in ("person_id", "topic_slug"):
        categories = list(matches[column].cat.categories)
        assert categories == sorted(set(matches[column].dropna())), column
    out = matches.astype({"person_id": "str", "topic_slug": "str"}).merge(keys, on="post_id", how="left")
    return out[COLUMNS].astype({"strength": float}).sort_values(["post_key", "topic_slug"], ignore_index=True)


def expected(upto: date) -> pd.DataFrame:
    posts = POSTS[POSTS["post_day"] <= upto].sort_values("post_key").reset_index(drop=True)
    fresh = post_topic_matches(posts.assign(text=posts["text"].fillna("")), ONTOLOGY)
    return fresh.sort_values(["post_key", "topic_slug"], ignore_index=True)


def test_reads_back_what_matching_afresh_gives_and_matches_each_text_once(conn, monkeypatch):
    seen = []
    first = window_matches(conn, FIRST, date(2026, 3, 2), 1.0, 0.5, seen=seen)
    pd.testing.assert_frame_equal(keyed(conn, first), expected(date(2026, 3, 2)), check_dtype=False)
    assert sorted(seen) == sorted(["#python tips", "nothing at all", "data science with #python"])  # a repeat once

    seen.clear()
    again = window_matches(conn, FIRST, LAST, 1.0, 0.5, seen=seen)
    assert sorted(seen) == ["", "#cooking recipes"]  # only the new day's texts; the no-match text is not redone
    pd.testing.assert_frame_equal(keyed(conn, again), expected(LAST), check_dtype=False)
    assert len(again) == 7 and set(again["topic_slug"]) >= {"python", "data-science", "cooking", "food"}

    seen.clear()
    assert window_matches(conn, FIRST, LAST, 1.0, 0.5, seen=seen).equals(again)  # identical on a re-run
    assert seen == []


def test_a_different_matcher_rematches_everything(conn, monkeypatch):
    window_matches(conn, FIRST, LAST, 1.0, 0.5)
    seen = []
    heavier = window_matches(conn, FIRST, LAST, 2.0, 0.5, seen=seen)
    assert len(seen) == POSTS["text"].fillna("").nunique()
    heavier = keyed(conn, heavier)
    assert heavier.loc[heavier["post_key"] == "m:1", "strength"].tolist() == [2.0]
    kept = conn.execute(f"select count(distinct matcher) from {TopicMatchCache.TABLE}").fetchall()[0][0]
    assert kept == 1  # the old matcher's rows are dropped, not left to grow


def test_new_keywords_rematch_everything(conn, monkeypatch):
    window_matches(conn, FIRST, LAST, 1.0, 0.5)
    records = [
        {"slug": "food", "name": "Food", "keywords": ["food", "cooking"]},
        {"slug": "tips", "name": "Tips", "keywords": ["tips"]},
    ]
    seen = []
    found = keyed(conn, window_matches(conn, FIRST, LAST, 1.0, 0.5, Ontology.from_records(records), seen))
    assert len(seen) == POSTS["text"].fillna("").nunique()
    assert sorted(set(found["topic_slug"])) == ["food", "tips"]


def test_posts_whose_ids_collide_are_numbered_by_key_instead(conn, monkeypatch):
    """post_id is a hash of post_key; should two keys share one, the posts must stay apart."""
    honest = window_matches(conn, FIRST, LAST, 1.0, 0.5)
    monkeypatch.setattr(TopicMatchCache, "POST_ID", "hash(p.post_key) % 2")  # forces collisions
    colliding = window_matches(conn, FIRST, LAST, 1.0, 0.5)
    assert colliding["post_id"].nunique() == honest["post_id"].nunique() == 4
    pd.testing.assert_frame_equal(keyed(conn, colliding), expected(LAST), check_dtype=False)
