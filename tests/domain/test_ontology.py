"""The shipped taxonomy, Klout's format, and the errors bad rows must give."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.ontology import Ontology, OntologyError, load_default_ontology, load_klout_ontology
from sandbox.topics import TOPICS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ontology"
KLOUT_TOPICS = FIXTURES / "klout_topics.csv"
KLOUT_EDGES = FIXTURES / "klout_edges.csv"


@pytest.fixture(scope="module")
def default():
    return load_default_ontology()


def test_default_has_at_least_150_topics_and_is_a_dag(default):
    assert len(default) >= 150
    assert default.topics["slug"].is_unique and default.topics["topic_id"].is_unique
    assert list(default.topics.columns[:4]) == ["topic_id", "slug", "display_name", "keywords"]
    for slug in default.topics["slug"]:
        assert slug not in default.ancestors(slug)
    assert {"technology", "science", "sports"} <= set(default.roots())
    assert (default.edges.groupby("child_slug").size() > 1).any(), "some topic should have several parents"


def test_default_covers_the_sandbox_vocabulary(default):
    keywords = dict(zip(default.topics["slug"], default.topics["keywords"]))
    for slug, _name, parent, sandbox_keywords in TOPICS:
        assert slug in default
        assert set(sandbox_keywords) <= set(keywords[slug])
        if parent:
            assert parent in default.parents(slug)


def test_sandbox_post_keywords_signal_only_their_topic(default):
    index = default.keyword_index()
    for slug, *_rest, kws in TOPICS:
        for kw in kws[:2]:  # the hashtag and the word sandbox posts carry
            assert index[kw] == (slug,)


def test_klout_format_with_multiple_parents():
    o = load_klout_ontology(KLOUT_TOPICS, KLOUT_EDGES)
    assert "_ROOT_" not in o and len(o) == 6
    assert o.roots() == ["technology", "science"]
    assert o.parents("bioinformatics") == ("data-science", "science")
    assert o.ancestors("deep-learning") == ["machine-learning", "data-science", "science", "technology"]
    assert o.ancestors("bioinformatics") == ["data-science", "science", "technology"]
    row = o.topics.set_index("slug").loc["machine-learning"]
    assert row["topic_id"] == 40 and row["display_name"] == "Machine Learning"
    assert {"machine learning", "machinelearning"} <= set(row["keywords"])
    assert row["wiki_item_id"] == "Q2539"


def test_ancestor_table_lists_each_ancestor_once_at_its_nearest_distance():
    table = load_klout_ontology(KLOUT_TOPICS, KLOUT_EDGES).ancestor_table()
    dl = table[table["slug"] == "deep-learning"].set_index("ancestor_slug")["distance"].to_dict()
    assert dl == {"machine-learning": 1, "data-science": 2, "science": 3, "technology": 3}


def _write(tmp_path, topics: str, edges: str):
    (tmp_path / "t.csv").write_text("topicId,topicSlug,topicDisplayName,wikiItemId,freebaseMachineId\n" + topics)
    (tmp_path / "e.csv").write_text("parentTopicId,parentTopicSlug,childTopicId,childTopicSlug\n" + edges)
    return tmp_path / "t.csv", tmp_path / "e.csv"


@pytest.mark.parametrize(
    ("topics", "edges", "message"),
    [
        ("1,a,A,,\n", "9,zzz,1,a\n", r"e\.csv line 2: unknown parent topic id 9 \('zzz'\)"),
        ("1,a,A,,\n", "0,_ROOT_,1,a\n0,_ROOT_,2,b\n", r"e\.csv line 3: unknown child topic id 2"),
        ("1,a,A,,\n2,b,B,,\n", "1,b,2,b\n", r"e\.csv line 2: parent id 1 is 'a' in the topics file, not 'b'"),
        ("1,a,A,,\n1,b,B,,\n", "", r"t\.csv line 3: duplicate topicId 1"),
        ("x,a,A,,\n", "", r"t\.csv line 2: topicId 'x' is not an integer"),
        ("1,a,A,,\n2,b,B,,\n", "1,a,2,b\n2,b,1,a\n", r"cycle in the topic hierarchy: (a -> b -> a|b -> a -> b)"),
        ("1,a,A,,\n", "0,_ROOT_,0,_ROOT_\n", r"root _ROOT_ cannot be a child"),
    ],
)
def test_bad_klout_rows_give_clear_errors(tmp_path, topics, edges, message):
    with pytest.raises(OntologyError, match=message):
        load_klout_ontology(*_write(tmp_path, topics, edges))


def test_bad_records_name_the_row():
    with pytest.raises(OntologyError, match=r"topics row 2 \('b'\): unknown parent 'nope'"):
        Ontology.from_records([{"slug": "a", "name": "A"}, {"slug": "b", "name": "B", "parents": ["nope"]}])
    with pytest.raises(OntologyError, match=r"topics row 2: duplicate slug 'a'"):
        Ontology.from_records([{"slug": "a", "name": "A"}, {"slug": "a", "name": "A again"}])
    with pytest.raises(OntologyError, match=r"topics row 1: invalid slug 'Not A Slug'"):
        Ontology.from_records([{"slug": "Not A Slug", "name": "x"}])
    with pytest.raises(OntologyError, match=r"cycle in the topic hierarchy: a -> c -> b -> a"):
        Ontology.from_records(
            [
                {"slug": "a", "name": "A", "parents": ["b"]},
                {"slug": "b", "name": "B", "parents": ["c"]},
                {"slug": "c", "name": "C", "parents": ["a"]},
            ]
        )


def test_default_yaml_errors_name_the_file_row(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("- {slug: a, name: A}\n- {slug: b, name: B, parents: [ghost]}\n")
    with pytest.raises(OntologyError, match=r"mine\.yaml row 2 \('b'\): unknown parent 'ghost'"):
        load_default_ontology(bad)


def test_unknown_slug_lookup_is_a_key_error(default):
    with pytest.raises(KeyError, match="unknown topic 'no-such-topic'"):
        default.ancestors("no-such-topic")
