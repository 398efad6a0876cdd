"""A tiny hand-written serving snapshot (one hostile person among six) and a client on it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from web.app import create_app
from web.snapshot import publish

AS_OF = date(2026, 11, 28)
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_HANDLE = '"><img src=x onerror=alert(2)>'
HOSTILE_TOPIC = "<script>alert(3)</script>"

PEOPLE = [
    # person_id, display_name, is_registered, score, previous_score, delta, rank, handles
    (
        "p000001",
        "Ada Lovelace",
        True,
        60.0,
        58.8,
        1.2,
        1,
        [("bluesky", "ada.bsky.social"), ("mastodon", "@ada@example.social")],
    ),
    ("p000002", HOSTILE_NAME, True, 45.5, 46.0, -0.5, 2, [("mastodon", HOSTILE_HANDLE)]),
    ("bluesky:did:plc:abc", "Bob Sky", False, 30.25, 30.25, 0.0, 3, [("bluesky", "bob.bsky.social")]),
    ("khoros:community.example:42", "Kay Host", False, 20.0, 19.0, 1.0, 4, [("khoros", "kayhost")]),
    ("p000005", "Cleo New", True, 10.0, None, None, 5, []),
    ("p000006", "Dan 100%_sure", True, 5.0, 5.5, -0.5, 6, [("x", "dan_sure")]),
]
# Ada's (network, subscore, value, points): points add up to her score, 60.
ADA_SUBSCORES = [
    ("bluesky", "reach", 2.0, 20.0),
    ("bluesky", "amplification", 1.0, 10.0),
    ("bluesky", "network_impact", 0.5, 5.0),
    ("mastodon", "reach", 1.5, 15.0),
    ("mastodon", "amplification", 0.6, 6.0),
    ("mastodon", "network_impact", 0.4, 4.0),
]
ADA_HISTORY = [(date(2026, 11, 26), 57.5), (date(2026, 11, 27), 58.8), (AS_OF, 60.0)]
ADA_REASONS = [(1, "bluesky", "reach", 1.2), (2, "mastodon", "amplification", -0.35), (3, "mastodon", "reach", 0.35)]
# p000002 under formula v2's discounts: the points each took from the score, and the ring discount's
# move among the reasons (it took 4.10 more points than the day before; the subscores' move is the delta)
# +K added 0.5 of their 45.5 points (their subscores share the other 45).
DISCOUNTED = [("p000002", "kplus_clique", 0.3), ("p000002", "ring", 4.1)]
DISCOUNTED_KPLUS = 0.5
DISCOUNTED_REASONS = [(1, "all", "ring_discount", -4.1), (2, "mastodon", "reach", -0.6), (3, "all", "kplus", 0.1)]
TOPICS = [("programming", "Programming"), ("python", "Python"), ("django", "Django"), ("evil", HOSTILE_TOPIC)]
EDGES = [("programming", "python"), ("python", "django")]
PERSON_TOPICS = [
    ("p000001", "python", 3.5, True, 1, 4),
    ("p000001", "programming", 2.0, False, 2, 0),
    ("p000002", "python", 1.0, False, 1, 1),
    ("p000002", "evil", 0.5, False, 2, 0),
]
BOARD = [
    # topic, person, topic_score, kplus_count, rank_influence, rank_kplus, sash
    ("python", "p000001", 9.5, 4, 1, 1, "gold"),
    ("python", "p000002", 7.25, 1, 2, 2, "blue_and_gold"),
    ("python", "bluesky:did:plc:abc", 3.0, None, 3, None, None),
    ("programming", "p000001", 5.0, 0, 1, None, "blue"),
]
KPLUS = [("python", "p000001", 4, 1), ("python", "p000002", 1, 2)]
INFLUENCE = [
    ("p000001", "influenced_by", 1, "bluesky:did:plc:abc", 0.8),
    ("p000001", "influenced_by", 2, "p000002", 0.3),
    ("p000001", "influences", 1, "khoros:community.example:42", 0.5),
    ("bluesky:did:plc:abc", "influences", 1, "p000001", 0.8),
]
PERKS = [
    (
        "c-coffee",
        "Acme Coffee",
        "Free espresso for Python people",
        ["python", "gone-topic"],
        40.0,
        ["Paris", "Lyon"],
        date(2026, 11, 1),
        date(2026, 12, 31),
        50,
        True,
        3,
    ),
    ("c-old", "Old Brand", "Last year's perk", [], None, [], date(2025, 1, 1), date(2025, 2, 1), None, False, 0),
]


def fill(version: str = "v-test", as_of: date = AS_OF, people=PEOPLE, board=BOARD):
    """A `publish` fill writing the rows above (a later version may change scores or sashes)."""

    def _fill(conn: duckdb.DuckDBPyConnection) -> dict:
        conn.execute(
            "insert into meta values (?, ?, 'v1', 90, ?)", [version, as_of, datetime(2026, 11, 29, 3, 0, tzinfo=UTC)]
        )
        for pid, name, reg, score, prev, delta, rank, handles in people:
            text = " ".join([name, *(h for _, h in handles)]).lower()
            conn.execute(
                "insert into people values (?, ?, ?, ?, ?, ?, ?, ?)", [pid, name, reg, score, prev, delta, rank, text]
            )
            conn.execute("insert into leaderboard values (?, ?, ?)", [rank, pid, score])
            for net, handle in handles:
                conn.execute("insert into handles values (?, ?, ?)", [pid, net, handle])
        conn.executemany("insert into subscores values ('p000001', ?, ?, ?, ?)", ADA_SUBSCORES)
        conn.executemany("insert into subscores values ('p000002', ?, ?, ?, ?)", [("mastodon", "reach", 1.0, 45.0)])
        conn.executemany("insert into score_history values ('p000001', ?, ?)", ADA_HISTORY)
        conn.execute("insert into score_history values ('p000002', ?, 45.5)", [as_of])
        conn.executemany("insert into score_reasons values ('p000001', ?, ?, ?, ?)", ADA_REASONS)
        conn.executemany("insert into score_reasons values ('p000002', ?, ?, ?, ?)", DISCOUNTED_REASONS)
        conn.executemany("insert into score_discounts values (?, ?, ?)", DISCOUNTED)
        conn.execute("insert into score_kplus values ('p000002', ?)", [DISCOUNTED_KPLUS])
        conn.executemany("insert into topics values (?, ?)", TOPICS)
        conn.executemany("insert into topic_edges values (?, ?)", EDGES)
        conn.executemany("insert into person_topics values (?, ?, ?, ?, ?, ?)", PERSON_TOPICS)
        conn.executemany("insert into topic_leaderboards values (?, ?, ?, ?, ?, ?, ?)", board)
        conn.executemany("insert into topic_kplus values (?, ?, ?, ?)", KPLUS)
        conn.executemany("insert into influence values (?, ?, ?, ?, ?)", INFLUENCE)
        conn.executemany("insert into perks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PERKS)
        return {"as_of": as_of, "formula_version": "v1"}

    return _fill


@pytest.fixture(scope="session")
def snapshot_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("serving")
    publish(directory, "v-test", fill())
    return directory


@pytest.fixture(scope="session")
def client(snapshot_dir) -> TestClient:
    return TestClient(create_app(snapshot_dir))


@pytest.fixture(scope="session")
def snapshot_rows(snapshot_dir):
    """A read-only connection on the published file, to compare the API with the stored rows."""
    conn = duckdb.connect(str(next(snapshot_dir.glob("snapshot-*.duckdb"))), read_only=True)
    yield conn
    conn.close()
