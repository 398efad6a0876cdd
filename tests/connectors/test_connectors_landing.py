import dataclasses
from datetime import timedelta

import duckdb
import pytest
from connector_helpers import http, mastodon_client
from connector_worlds import DAY, MastodonWorld

from connectors.ingest import collect_day
from connectors.landing import ensure_raw_tables, ingest_day, land_day, land_platform, seen_reaction_keys
from connectors.platform import PlatformClient

RAW_COLUMNS = {
    "mastodon_accounts": ["network", "account_id", "handle", "partition_day", "fetched_at", "payload"],
    "mastodon_posts": ["network", "post_id", "account_id", "created_at", "partition_day", "fetched_at", "payload"],
    "mastodon_reactions": [
        "network",
        "post_id",
        "target_account_id",
        "reactor_account_id",
        "reaction_type",
        "reacted_at",
        "source_account_id",
        "partition_day",
        "fetched_at",
        "payload",
    ],
    "platform_profiles": [
        "person_id",
        "display_name",
        "birth_date",
        "location",
        "opted_out",
        "is_private",
        "private_consent",
        "partition_day",
        "fetched_at",
        "payload",
    ],
    "platform_links": ["person_id", "network", "handle", "partition_day", "fetched_at", "payload"],
    "platform_kplus": [
        "give_id",
        "giver_person_id",
        "recipient_person_id",
        "topic_slug",
        "given_at",
        "partition_day",
        "fetched_at",
        "payload",
    ],
    "platform_campaigns": ["campaign_id", "partition_day", "fetched_at", "payload"],
    "platform_topic_edits": [
        "edit_id",
        "person_id",
        "editor_person_id",
        "topic_slug",
        "action",
        "edited_at",
        "partition_day",
        "fetched_at",
        "payload",
    ],
}


@pytest.fixture
def conn():
    connection = duckdb.connect()
    ensure_raw_tables(connection, ["mastodon"])
    yield connection
    connection.close()


def snapshot(conn, table):
    """Rows without fetched_at, in a stable order."""
    columns = [c for c in RAW_COLUMNS[table] if c != "fetched_at"]
    return conn.execute(f"SELECT {', '.join(columns)} FROM raw.{table} ORDER BY ALL").fetchall()


def everything(conn):
    return {t: snapshot(conn, t) for t in ("mastodon_accounts", "mastodon_posts", "mastodon_reactions")}


@pytest.fixture
def batch(rsps, clock):
    world = MastodonWorld(rsps)
    world.serve()
    return collect_day(mastodon_client(clock, retries=1), ["alice", "bob"], DAY, seen_reaction_keys=set())


def test_raw_tables_match_the_contract(conn):
    for table, columns in RAW_COLUMNS.items():
        described = conn.execute(f"DESCRIBE raw.{table}").fetchall()
        assert [row[0] for row in described] == columns
    types = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'mastodon_reactions'"
        ).fetchall()
    )
    assert types["reacted_at"] == "TIMESTAMP WITH TIME ZONE" and types["partition_day"] == "DATE"
    assert types["payload"] == "JSON"


def test_land_day_reports_and_relanding_is_identical(conn, batch):
    report = land_day(conn, batch)
    assert report.rows == {
        "accounts": 1,
        "posts": 1,
        "reactions": 7,
        "counts": 0,
    }  # Mastodon counts nothing anonymously
    assert [f.handle for f in report.failures] == ["bob"]
    first = everything(conn)
    again = land_day(conn, dataclasses.replace(batch))
    assert again.rows == report.rows and everything(conn) == first
    payload = conn.execute("SELECT payload->>'$.acct' FROM raw.mastodon_accounts").fetchone()[0]
    assert payload == "alice"


def test_landing_is_atomic(conn, batch):
    land_day(conn, batch)
    before = everything(conn)
    broken = dataclasses.replace(
        batch, posts=[], reactions=[*batch.reactions[:-1], {**batch.reactions[-1], "payload": "{not json"}]
    )
    with pytest.raises(duckdb.Error):
        land_day(conn, broken)  # deletes ran and accounts were inserted before the failure
    assert everything(conn) == before
    assert not conn.execute("SELECT count(*) FROM duckdb_views() WHERE view_name LIKE '_landing%'").fetchone()[0]


def test_failed_account_keeps_its_previous_rows(conn, batch):
    land_day(conn, batch)
    mention_target = conn.execute(
        "SELECT target_account_id FROM raw.mastodon_reactions WHERE reaction_type = 'mention'"
    ).fetchall()
    assert mention_target == [("9",)]
    failed = dataclasses.replace(batch, accounts=[], posts=[], reactions=[], failures=batch.failures)
    land_day(conn, failed)  # alice failed this time: her rows (incl. the mention of 9) stay
    assert conn.execute("SELECT count(*) FROM raw.mastodon_reactions").fetchone()[0] == 7
    fewer = dataclasses.replace(batch, reactions=[r for r in batch.reactions if r["reaction_type"] != "mention"])
    land_day(conn, fewer)  # alice succeeded: her mention rows are replaced too (source_account_id)
    assert (
        conn.execute("SELECT count(*) FROM raw.mastodon_reactions WHERE reaction_type = 'mention'").fetchone()[0] == 0
    )


def test_seen_reaction_keys_window(conn, batch):
    land_day(conn, batch)
    keys = seen_reaction_keys(conn, "mastodon", before_day=DAY + timedelta(days=1), since_day=DAY - timedelta(days=7))
    assert len(keys) == 7 and all(k[0] == "mastodon" for k in keys)
    assert seen_reaction_keys(conn, "mastodon", before_day=DAY, since_day=DAY - timedelta(days=7)) == set()


def test_ingest_day_counts_each_reaction_once(rsps, clock, conn):
    world = MastodonWorld(rsps)
    world.serve()
    client = mastodon_client(clock, retries=1)
    first = ingest_day(conn, client, ["alice", "bob"], DAY - timedelta(days=1))
    second = ingest_day(conn, client, ["alice", "bob"], DAY)
    assert first.rows["posts"] == 0 and second.rows["posts"] == 1
    assert [f.handle for f in second.failures] == ["bob"]
    landed = conn.execute(
        "SELECT post_id, reactor_account_id, reaction_type, target_account_id, count(*) "
        "FROM raw.mastodon_reactions GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert landed == []  # favourites seen on D-1 (no time given) are not landed again on D
    assert (
        first.rows["reactions"] + second.rows["reactions"]
        == conn.execute("SELECT count(*) FROM raw.mastodon_reactions").fetchone()[0]
    )


def platform_world(rsps, kplus_status=200):
    base = "https://k.test/platform/v1"
    profiles = [
        {
            "person_id": 1,
            "display_name": "Ada",
            "birth_date": "1990-02-03",
            "location": "Lyon",
            "opted_out": False,
            "is_private": False,
            "private_consent": True,
            "linked_accounts": [
                {"network": "mastodon", "handle": "alice"},
                {"network": "bluesky", "handle": "ann.bsky.social"},
            ],
        },
        {
            "person_id": 2,
            "display_name": "Bo",
            "birth_date": None,
            "location": None,
            "opted_out": True,
            "is_private": True,
            "private_consent": False,
            "linked_accounts": [],
        },
    ]
    rsps.get(f"{base}/profiles", json={"items": profiles[:1], "has_more": True})
    rsps.get(f"{base}/profiles", json={"items": profiles[1:], "has_more": False})
    gives = [
        {
            "give_id": "g1",
            "giver_person_id": 2,
            "recipient_person_id": 1,
            "topic_slug": "python",
            "given_at": "2024-05-10T08:00:00Z",
        }
    ]
    rsps.get(f"{base}/kplus", json={"items": gives, "has_more": False}, status=kplus_status)
    rsps.get(f"{base}/campaigns", json={"items": [{"campaign_id": "c1", "title": "Perk"}], "has_more": False})
    edits = [
        {
            "edit_id": "e1",
            "person_id": 1,
            "editor_person_id": 1,
            "topic_slug": "python",
            "action": "remove",
            "edited_at": "2024-05-10T09:00:00Z",
        }
    ]
    rsps.get(f"{base}/topic_edits", json={"items": edits, "has_more": False})


def test_land_platform(rsps, clock, conn):
    platform_world(rsps)
    report = land_platform(conn, PlatformClient(http("platform", "https://k.test", clock)), DAY)
    assert report.rows == {"profiles": 2, "links": 2, "kplus": 1, "campaigns": 1, "topic_edits": 1}
    assert snapshot(conn, "platform_links")[0][:3] == ("1", "bluesky", "ann.bsky.social")
    ada = snapshot(conn, "platform_profiles")[0]
    assert ada[:7] == ("1", "Ada", DAY.replace(year=1990, month=2, day=3), "Lyon", False, False, True)
    assert snapshot(conn, "platform_kplus")[0][:4] == ("g1", "2", "1", "python")
    assert snapshot(conn, "platform_topic_edits")[0][:5] == ("e1", "1", "1", "python", "remove")


def test_land_platform_failure_keeps_previous_partition(rsps, clock, conn):
    platform_world(rsps)
    client = PlatformClient(http("platform", "https://k.test", clock, retries=0))
    land_platform(conn, client, DAY)
    before = {t: snapshot(conn, t) for t in RAW_COLUMNS if t.startswith("platform")}
    rsps.reset()
    platform_world(rsps, kplus_status=500)
    with pytest.raises(Exception, match=r"platform /platform/v1/kplus"):
        land_platform(conn, client, DAY)
    assert {t: snapshot(conn, t) for t in before} == before
