"""person_topics keeps each text's topic matches: a day matches only texts it has not seen, and
what it reads back is exactly what matching every post afresh gives."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.assets import topics as topics_asset
from orchestration.domain.ontology import Ontology
from orchestration.domain.topics import post_topic_matches

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


def matched_texts(monkeypatch) -> list[str]:
    """Record every text handed to the matcher."""
    seen: list[str] = []
    real = topics_asset.text_topic_matches

    def spy(texts, *args, **kwargs):
        seen.extend(texts)
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(topics_asset, "text_topic_matches", spy)
    return seen


COLUMNS = ["post_key", "person_id", "topic_slug", "strength"]


def keyed(conn, matches: pd.DataFrame) -> pd.DataFrame:
    """window_matches' rows with their post_key, in post_key order (it orders by post_id)."""
    keys = conn.execute("select distinct post_id, post_key from window_topic_matches").df()
    assert not keys["post_id"].duplicated().any() and not keys["post_key"].duplicated().any()
    out = matches.merge(keys, on="post_id", how="left")
    return out[COLUMNS].astype({"strength": float}).sort_values(["post_key", "topic_slug"], ignore_index=True)


def expected(upto: date) -> pd.DataFrame:
    posts = POSTS[POSTS["post_day"] <= upto].sort_values("post_key").reset_index(drop=True)
    fresh = post_topic_matches(posts.assign(text=posts["text"].fillna("")), topics_asset.ONTOLOGY)
    return fresh.sort_values(["post_key", "topic_slug"], ignore_index=True)


def test_reads_back_what_matching_afresh_gives_and_matches_each_text_once(conn, monkeypatch):
    seen = matched_texts(monkeypatch)
    first = topics_asset.window_matches(conn, FIRST, date(2026, 3, 2), 1.0, 0.5)
    pd.testing.assert_frame_equal(keyed(conn, first), expected(date(2026, 3, 2)), check_dtype=False)
    assert sorted(seen) == sorted(["#python tips", "nothing at all", "data science with #python"])  # a repeat once

    seen.clear()
    again = topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5)
    assert sorted(seen) == ["", "#cooking recipes"]  # only the new day's texts; the no-match text is not redone
    pd.testing.assert_frame_equal(keyed(conn, again), expected(LAST), check_dtype=False)
    assert len(again) == 7 and set(again["topic_slug"]) >= {"python", "data-science", "cooking", "food"}

    seen.clear()
    assert topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5).equals(again)  # identical on a re-run
    assert seen == []


def test_a_different_matcher_rematches_everything(conn, monkeypatch):
    topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5)
    seen = matched_texts(monkeypatch)
    heavier = topics_asset.window_matches(conn, FIRST, LAST, 2.0, 0.5)
    assert len(seen) == POSTS["text"].fillna("").nunique()
    heavier = keyed(conn, heavier)
    assert heavier.loc[heavier["post_key"] == "m:1", "strength"].tolist() == [2.0]
    kept = conn.execute(f"select count(distinct matcher) from {topics_asset.POST_TOPIC_MATCHES}").fetchall()[0][0]
    assert kept == 1  # the old matcher's rows are dropped, not left to grow


def test_new_keywords_rematch_everything(conn, monkeypatch):
    topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5)
    records = [
        {"slug": "food", "name": "Food", "keywords": ["food", "cooking"]},
        {"slug": "tips", "name": "Tips", "keywords": ["tips"]},
    ]
    monkeypatch.setattr(topics_asset, "ONTOLOGY", Ontology.from_records(records))
    seen = matched_texts(monkeypatch)
    found = keyed(conn, topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5))
    assert len(seen) == POSTS["text"].fillna("").nunique()
    assert sorted(set(found["topic_slug"])) == ["food", "tips"]


def test_posts_whose_ids_collide_are_numbered_by_key_instead(conn, monkeypatch):
    """post_id is a hash of post_key; should two keys share one, the posts must stay apart."""
    honest = topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5)
    monkeypatch.setattr(topics_asset, "POST_ID", "hash(p.post_key) % 2")  # forces collisions
    colliding = topics_asset.window_matches(conn, FIRST, LAST, 1.0, 0.5)
    assert colliding["post_id"].nunique() == honest["post_id"].nunique() == 4
    pd.testing.assert_frame_equal(keyed(conn, colliding), expected(LAST), check_dtype=False)
