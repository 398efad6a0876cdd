"""Topic evidence, assignment, profile edits and precision on hand-made posts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domain.score as score
from domain.ontology import Ontology
from domain.topics import PostNumbers, WindowEvidence, apply_profile_edits, assign_topics, match_topics, sorted_unique

from .oracles import assignment_precision, topic_evidence

# tech <- prog <- python <- pydata -> data -> tech: pydata reaches tech along two paths.
ONTO = Ontology.from_records(
    [
        {"slug": "tech", "name": "Tech", "keywords": ["tech"]},
        {"slug": "prog", "name": "Programming", "parents": ["tech"], "keywords": ["coding"]},
        {"slug": "python", "name": "Python", "parents": ["prog"], "keywords": ["python"]},
        {"slug": "data", "name": "Data", "parents": ["tech"], "keywords": ["data"]},
        {"slug": "pydata", "name": "PyData", "parents": ["python", "data"], "keywords": ["pydata", "data frames"]},
        {"slug": "food", "name": "Food", "keywords": ["food", "recipes"]},
    ]
)


def posts(*rows):
    return pd.DataFrame(rows, columns=["person_id", "post_key", "text", "reactions"])


def ev(frame, person, topic, column="evidence"):
    row = frame[(frame["person_id"] == person) & (frame["topic_slug"] == topic)]
    return float(row[column].iloc[0]) if len(row) else 0.0


def test_hashtags_count_more_than_words_and_each_topic_once_per_post():
    index = ONTO.keyword_index()
    assert match_topics("#pydata talk on data frames and PyData", index) == {"pydata": 1.0, "data": 0.5}
    assert match_topics("#DataFrames are neat", index) == {"pydata": 1.0}  # phrase's hashtag form
    assert match_topics("nothing here", index) == {}


def test_evidence_is_weighted_by_engagement_with_a_floor():
    e = topic_evidence(posts(("ann", "p1", "#food", 0), ("bob", "p2", "#food", 20)), ONTO, engagement_floor=0.1)
    assert ev(e, "ann", "food") == pytest.approx(0.1)
    assert ev(e, "bob", "food") == pytest.approx(math.log1p(20) + 0.1)


def test_rollup_reaches_every_ancestor_once_through_multiple_parents():
    e = topic_evidence(posts(("ann", "p1", "#pydata", 10)), ONTO, rollup_decay=0.5)
    w = math.log1p(10) + 0.1
    assert ev(e, "ann", "pydata") == pytest.approx(w)
    assert ev(e, "ann", "python") == pytest.approx(w * 0.5)
    assert ev(e, "ann", "data") == pytest.approx(w * 0.5)
    assert ev(e, "ann", "prog") == pytest.approx(w * 0.25)
    assert ev(e, "ann", "tech") == pytest.approx(w * 0.25)  # nearest path, not once per path
    assert ev(e, "ann", "tech", "direct_evidence") == 0.0
    assert not e.duplicated(["person_id", "topic_slug"]).any()


def test_child_evidence_adds_to_a_parents_own():
    e = topic_evidence(posts(("ann", "p1", "#python", 0), ("ann", "p2", "#coding", 0)), ONTO, engagement_floor=1.0)
    assert ev(e, "ann", "prog", "direct_evidence") == pytest.approx(1.0)
    assert ev(e, "ann", "prog") == pytest.approx(1.5)


def test_mentioned_people_get_evidence_but_not_self_mentions():
    p = posts(("ann", "p1", "#food with @bob", 5))
    m = pd.DataFrame({"post_key": ["p1", "p1"], "person_id": ["bob", "ann"]})
    e = topic_evidence(p, ONTO, m, mention_weight=0.5)
    assert ev(e, "bob", "food") == pytest.approx(0.5 * ev(e, "ann", "food"))
    assert ev(e, "ann", "food") == pytest.approx(math.log1p(5) + 0.1)


def test_no_matches_gives_an_empty_frame_with_columns():
    e = topic_evidence(posts(("ann", "p1", "hello", 3)), ONTO)
    assert e.empty and {"person_id", "topic_slug", "evidence"} <= set(e.columns)


def test_assign_topics_threshold_percentile_and_experts():
    evidence = pd.DataFrame(
        {
            "person_id": [f"p{i:02d}" for i in range(20)] + ["p00"],
            "topic_slug": ["food"] * 20 + ["tech"],
            "evidence": [float(i) for i in range(20)] + [0.4],
        }
    )
    a = assign_topics(evidence, expert_top_pct=0.1, min_evidence=1.0)
    food = a[a["topic_slug"] == "food"].set_index("person_id")
    assert "p00" not in food.index and "p00" not in set(a["person_id"])  # below min_evidence
    assert len(food) == 19
    assert sorted(food.index[food["is_expert"]]) == ["p18", "p19"]  # ceil(10% of 19)
    assert food.loc["p19", "percentile"] == 1.0
    assert food.loc["p01", "percentile"] == pytest.approx(1 / 19)


def test_expert_ties_break_by_person_id():
    evidence = pd.DataFrame({"person_id": ["b", "a", "c"], "topic_slug": ["food"] * 3, "evidence": [5.0, 5.0, 1.0]})
    a = assign_topics(evidence, expert_top_pct=0.1, min_evidence=0)
    assert a.loc[a["is_expert"], "person_id"].tolist() == ["a"]


ASSIGNED = pd.DataFrame({"person_id": ["ann", "ann"], "topic_slug": ["food", "tech"], "evidence": [3.0, 1.0]})


def edits(*rows):
    return pd.DataFrame(rows, columns=["person_id", "editor_person_id", "topic_slug", "action"])


def profile_of(frame, person):
    return dict(
        zip(frame.loc[frame["person_id"] == person, "topic_slug"], frame.loc[frame["person_id"] == person, "source"])
    )


def test_adds_by_self_and_friends():
    out = apply_profile_edits(
        ASSIGNED, edits(("ann", "ann", "python", "add"), ("ann", "bob", "data", "add"), ("ann", "bob", "food", "add"))
    )
    assert profile_of(out, "ann") == {
        "food": "assigned",
        "tech": "assigned",
        "python": "self_added",
        "data": "friend_added",
    }


def test_removal_wins_over_assignment_and_adds_whatever_the_order():
    out = apply_profile_edits(
        ASSIGNED,
        edits(
            ("ann", "ann", "food", "remove"),
            ("ann", "ann", "python", "remove"),
            ("ann", "ann", "python", "add"),
            ("ann", "bob", "python", "add"),
        ),
    )
    assert profile_of(out, "ann") == {"tech": "assigned"}


def test_a_friend_cannot_remove_your_topic():
    out = apply_profile_edits(ASSIGNED, edits(("ann", "bob", "food", "remove")))
    assert profile_of(out, "ann") == {"food": "assigned", "tech": "assigned"}


def test_adds_from_non_friends_are_ignored_when_friendships_are_given():
    friends = pd.DataFrame({"person_id": ["bob"], "friend_person_id": ["ann"]})
    out = apply_profile_edits(ASSIGNED, edits(("ann", "bob", "python", "add"), ("ann", "eve", "data", "add")), friends)
    assert profile_of(out, "ann") == {"food": "assigned", "tech": "assigned", "python": "friend_added"}


def test_unknown_edit_action_is_rejected():
    with pytest.raises(ValueError, match="unknown profile edit action"):
        apply_profile_edits(ASSIGNED, edits(("ann", "ann", "food", "delete")))


def test_assignment_precision_on_a_hand_made_set():
    assigned = pd.DataFrame(
        {
            "person_id": ["a", "a", "b", "b", "c", "d"],
            "topic_slug": ["food", "tech", "tech", "food", "python", "food"],
            "evidence": [5.0, 1.0, 4.0, 2.0, 1.0, 1.0],
        }
    )
    truth = pd.DataFrame(
        {"person_id": ["a", "a", "b", "c", "e"], "topic_slug": ["food", "tech", "food", "data", "food"]}
    )
    assert assignment_precision(assigned, truth) == pytest.approx(1 / 3)  # a right, b wrong, c wrong; d, e unscored
    assert assignment_precision(assigned, truth, top_k=2) == pytest.approx(3 / 5)
    as_lists = pd.DataFrame({"person_id": ["a", "b", "c"], "topics": [["food", "tech"], ["food"], ["data"]]})
    assert assignment_precision(assigned, as_lists) == pytest.approx(1 / 3)


def test_end_to_end_assignment_finds_each_persons_topic():
    p = posts(
        ("ann", "1", "Loving recipes #food", 12),
        ("ann", "2", "baking again #food", 3),
        ("bob", "3", "Notes on #python and data", 30),
        ("bob", "4", "#coding today", 1),
        ("cat", "5", "#tech news", 2),
    )
    a = assign_topics(topic_evidence(p, ONTO), min_evidence=0.5)
    truth = pd.DataFrame({"person_id": ["ann", "bob", "cat"], "topic_slug": ["food", "python", "tech"]})
    assert assignment_precision(a, truth) == 1.0


def reference_evidence(
    weights: pd.DataFrame, ontology: Ontology, mentions: pd.DataFrame, *, mention_weight: float, rollup_decay: float
) -> pd.DataFrame:
    """The evidence rules written plainly with DataFrames, as an oracle for WindowEvidence: each
    match's weight to its author; to each person mentioned in the post (once per post, never the
    author) at mention_weight; then every ancestor gets decay ** distance of it, once each."""
    parts = [weights[["person_id", "topic_slug", "weight"]]]
    if len(mentions) and len(weights):
        mentioned = mentions[["post_key", "person_id"]].drop_duplicates().rename(columns={"person_id": "mentioned_id"})
        via = weights.merge(mentioned, on="post_key")
        via = via[via["mentioned_id"] != via["person_id"]]
        parts.append(
            pd.DataFrame(
                {
                    "person_id": via["mentioned_id"],
                    "topic_slug": via["topic_slug"],
                    "weight": via["weight"] * mention_weight,
                }
            )
        )
    direct = pd.concat(parts, ignore_index=True).groupby(["person_id", "topic_slug"], as_index=False)["weight"].sum()
    direct = direct.rename(columns={"weight": "direct_evidence"})
    if direct.empty:
        return pd.DataFrame(columns=["person_id", "topic_slug", "direct_evidence", "evidence"])
    up = direct.merge(ontology.ancestor_table(), left_on="topic_slug", right_on="slug")
    inherited = (
        pd.DataFrame(
            {
                "person_id": up["person_id"],
                "topic_slug": up["ancestor_slug"],
                "inherited": up["direct_evidence"] * np.power(rollup_decay, up["distance"].astype(float)),
            }
        )
        .groupby(["person_id", "topic_slug"], as_index=False)["inherited"]
        .sum()
    )
    out = direct.merge(inherited, on=["person_id", "topic_slug"], how="outer")
    out["direct_evidence"] = out["direct_evidence"].fillna(0.0)
    out["evidence"] = out["direct_evidence"] + out["inherited"].fillna(0.0)
    return out[["person_id", "topic_slug", "direct_evidence", "evidence"]].sort_values(
        ["person_id", "topic_slug"], ignore_index=True
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_window_evidence_equals_the_plain_rules_on_every_day(data):
    """The encoded engine a backfill uses gives, day by day, what the plain DataFrame rules give;
    a mention of nobody (a null person) counts for no one."""
    n_posts = data.draw(st.integers(0, 12))
    people = ["ann", "bob", "cat", "dan"]
    posts = [(f"p{i}", data.draw(st.sampled_from(people)), data.draw(st.integers(0, 6))) for i in range(n_posts)]
    match_rows = [
        (key, author, day, slug, data.draw(st.sampled_from([0.5, 1.0])))
        for key, author, day in posts
        for slug in data.draw(st.sets(st.sampled_from(sorted(ONTO.slugs)), max_size=3))
    ]
    matches = pd.DataFrame(match_rows, columns=["post_key", "person_id", "post_day", "topic_slug", "strength"])
    matches = matches.sort_values(["post_key", "topic_slug"], ignore_index=True)
    mention_rows = [
        (key, data.draw(st.sampled_from([*people, None])), data.draw(st.integers(0, 6)))
        for key, _, _ in posts
        for _ in range(data.draw(st.integers(0, 2)))
    ]
    mentions = pd.DataFrame(mention_rows, columns=["post_key", "person_id", "event_day"]).sort_values(
        ["post_key", "person_id", "event_day"], ignore_index=True
    )
    weight = np.asarray(
        data.draw(st.lists(st.floats(0.0, 5.0), min_size=len(matches), max_size=len(matches))), dtype=float
    )
    engine = WindowEvidence(
        matches, matches["post_day"], mentions, mentions["event_day"], ONTO, mention_weight=0.5, rollup_decay=0.5
    )
    # as the warehouse reads them: persons and topics as categoricals (here unsorted, with unused categories)
    as_categories = {
        "person_id": pd.CategoricalDtype(["zed", *reversed(people)]),
        "topic_slug": pd.CategoricalDtype(["nowhere", *reversed(sorted(ONTO.slugs))]),
    }
    coded = WindowEvidence(
        matches.astype(as_categories),
        matches["post_day"],
        mentions.astype({"person_id": as_categories["person_id"]}),
        mentions["event_day"],
        ONTO,
        mention_weight=0.5,
        rollup_decay=0.5,
    )
    for today in range(7):
        pd.testing.assert_frame_equal(coded.evidence(today, 3, weight), engine.evidence(today, 3, weight))
        in_window = ((matches["post_day"] > today - 3) & (matches["post_day"] <= today)).to_numpy()
        said = mentions[
            (mentions["event_day"] > today - 3) & (mentions["event_day"] <= today) & mentions["person_id"].notna()
        ]
        expected = reference_evidence(
            matches[in_window].assign(weight=weight[in_window]), ONTO, said, mention_weight=0.5, rollup_decay=0.5
        )
        got = engine.evidence(today, 3, weight)
        assert (
            got[["person_id", "topic_slug"]].astype(str).values.tolist()
            == expected[["person_id", "topic_slug"]].astype(str).values.tolist()
        )
        np.testing.assert_allclose(
            got[["direct_evidence", "evidence"]].to_numpy(dtype=float),
            expected[["direct_evidence", "evidence"]].to_numpy(dtype=float),
            rtol=1e-12,
            atol=1e-12,
        )


def test_assignment_is_judged_on_the_published_evidence():
    """Ten posts at 0.1 sum to 0.9999999999999999 in floating point: that is 1.0 as published."""
    evidence = pd.DataFrame(
        {
            "person_id": ["ann", "bob"],
            "topic_slug": ["food", "food"],
            "direct_evidence": [sum([0.1] * 10), 0.9999],
            "evidence": [sum([0.1] * 10), 0.9999],
        }
    )
    assert sum([0.1] * 10) < 1.0
    assert assign_topics(evidence, min_evidence=1.0)["person_id"].tolist() == ["ann"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=60), st.booleans())
def test_sorted_unique_is_a_sorted_factorize_whether_it_marks_or_sorts(values, marks):
    """The evidence engine numbers its keys by marking the key space when it is small: the same
    numbers a sorted factorize gives (and the fallback gives them too)."""
    expected_codes, expected_uniques = pd.factorize(np.asarray(values, dtype=np.int64), sort=True)
    original = score.DENSE_KEYS
    score.DENSE_KEYS = 64 if marks else 0
    try:
        codes, uniques = sorted_unique(np.asarray(values, dtype=np.int64), 41)
    finally:
        score.DENSE_KEYS = original
    assert codes.tolist() == expected_codes.tolist() and uniques.tolist() == expected_uniques.tolist()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 9), max_size=40), st.booleans(), st.lists(st.integers(-2, 11), max_size=20))
def test_post_numbers_are_a_factorize_sorted_or_not(ids, in_order, looked_up):
    """Posts numbered by their runs when sorted (as the warehouse reads them), by a factorize
    otherwise: the same numbers and lookups either way."""
    ids = np.asarray(sorted(ids) if in_order else ids, dtype=np.uint64 if in_order else np.int64)
    posts = PostNumbers(ids)
    codes, found = pd.factorize(ids)
    assert posts.codes.tolist() == codes.tolist() and len(posts) == len(found)
    wanted = np.asarray([v for v in looked_up if v >= 0], dtype=ids.dtype)
    assert posts.of(wanted).tolist() == pd.Index(found).get_indexer(wanted).tolist()


def test_window_evidence_keeps_the_posts_numbers_it_is_given_and_a_mention_of_no_matched_post_counts_for_none():
    """TopicDays hands WindowEvidence the posts it already numbered: the evidence is what numbering
    the keys there gives, and a mention of a post with no topic match (or of an unknown post) adds
    nothing."""
    matches = pd.DataFrame(
        {
            "post_key": ["b", "b", "a"],
            "person_id": ["ann", "ann", "bob"],
            "topic_slug": ["food", "prog", "food"],
            "strength": [1.0, 0.5, 1.0],
        }
    )
    mentions = pd.DataFrame({"post_key": ["a", "c", "b"], "person_id": ["cat", "dan", "cat"]})
    days, weight = np.zeros(3), np.array([1.0, 2.0, 4.0])
    given = WindowEvidence(
        matches, days, mentions, days, ONTO, posts=PostNumbers(matches["post_key"].to_numpy())
    ).evidence(0, 1, weight)
    numbered_here = WindowEvidence(matches, days, mentions, days, ONTO).evidence(0, 1, weight)
    pd.testing.assert_frame_equal(given, numbered_here)
    assert "dan" not in set(given["person_id"])  # post "c" matched no topic
    direct = given.set_index(["person_id", "topic_slug"])["direct_evidence"]
    assert direct[("cat", "food")] == 0.5 * (1.0 + 4.0) and direct[("cat", "prog")] == 0.5 * 2.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["b", "a", "c", "aa", None]), max_size=20),
    st.lists(st.sampled_from(["c", "d", "a", None]), max_size=20),
)
def test_sorted_codes_are_a_sorted_factorize_of_strings_or_categoricals(left, right):
    """Persons read as categoricals (shared sorted categories, as the warehouse codes them, or
    different ones) are numbered exactly as their strings would be."""
    left, right = pd.Series(left, dtype="str"), pd.Series(right, dtype="str")
    expected_codes, expected = score.sorted_codes(left, right)
    values = sorted(set(left.dropna()) | set(right.dropna()))
    shared = pd.CategoricalDtype([*values, "zz"])  # with an unused category
    for pair in (
        (left.astype(shared), right.astype(shared)),
        (left.astype("category"), right.astype(pd.CategoricalDtype(["e", *reversed(values)]))),
    ):
        codes, found = score.sorted_codes(*pair)
        assert codes.tolist() == expected_codes.tolist() and list(found) == list(expected)
        assert found.dtype == expected.dtype
