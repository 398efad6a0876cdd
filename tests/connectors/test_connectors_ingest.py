import json

import pytest
from connector_helpers import b_did, bluesky_client, mastodon_client
from connector_worlds import DAY, BlueskyWorld, MastodonWorld, at
from responses import matchers

from connectors.http import ConnectorError
from connectors.ingest import AccountSnapshot, ResolvedOnce, collect_day, reaction_key
from connectors.privacy import gate_for

ACCOUNT_COLUMNS = ["network", "account_id", "handle", "partition_day", "fetched_at", "payload"]
POST_COLUMNS = ["network", "post_id", "account_id", "created_at", "partition_day", "fetched_at", "payload"]
REACTION_COLUMNS = [
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
]


def triples(batch):
    return sorted(
        (r["post_id"], r["reactor_account_id"], r["reaction_type"], r["target_account_id"]) for r in batch.reactions
    )


def test_mastodon_collect_day(rsps, clock):
    world = MastodonWorld(rsps)
    world.serve()
    batch = collect_day(mastodon_client(clock, retries=1), ["alice", "bob"], DAY, seen_reaction_keys=world.seen)

    assert [list(r) for r in batch.accounts] == [ACCOUNT_COLUMNS]
    assert [list(r) for r in batch.posts] == [POST_COLUMNS]
    assert {tuple(r) for r in batch.reactions} == {tuple(REACTION_COLUMNS)}
    account = batch.accounts[0]
    assert (account["account_id"], account["handle"]) == ("1", "alice")
    assert json.loads(account["payload"])["followers_count"] == 120
    assert [p["post_id"] for p in batch.posts] == [world.today["id"]]  # not future, old or ancient
    assert json.loads(batch.posts[0]["payload"]) == world.today
    today, old = world.today["id"], world.old["id"]
    assert triples(batch) == sorted(
        [
            (today, "3", "favourite", "1"),
            (today, "4", "favourite", "1"),
            (today, "5", "reblog", "1"),
            (today, "6", "reply", "1"),  # two replies by 6 count once; a reply to the reply is not one
            (today, "1", "mention", "9"),
            (old, "6", "favourite", "1"),  # 5's favourite was landed before; the late reply is after D
        ]
    )
    reply = next(r for r in batch.reactions if r["reaction_type"] == "reply")
    assert reply["reacted_at"] == at(0, 11)
    assert all(r["source_account_id"] == "1" and r["partition_day"] == DAY for r in batch.reactions)
    favourite = next(r for r in batch.reactions if r["reaction_type"] == "favourite")
    assert favourite["reacted_at"] is None and json.loads(favourite["payload"])["id"] in {"3", "4", "6"}

    [failure] = batch.failures
    assert (failure.network, failure.handle, failure.endpoint) == ("mastodon", "bob", "/api/v1/accounts/lookup")
    assert "503" in failure.message


def test_bluesky_collect_day(rsps, clock):
    world = BlueskyWorld(rsps)
    world.serve()
    batch = collect_day(
        bluesky_client(clock, retries=1), [world.handle, "broken.bsky.social"], DAY, seen_reaction_keys=world.seen
    )
    assert [a["account_id"] for a in batch.accounts] == [world.did]
    assert [p["post_id"] for p in batch.posts] == [world.today["uri"]]  # never the reposted post
    assert batch.posts[0]["created_at"] == at(0, 10)
    today, old, me = world.today["uri"], world.old["uri"], world.did
    assert triples(batch) == sorted(
        [
            (today, b_did(3), "like", me),  # b_did(4) liked after the end of D
            (today, b_did(7), "repost", me),
            (today, b_did(8), "reply", me),
            (today, b_did(9), "quote", me),
            (today, me, "mention", world.other),
            (old, b_did(6), "like", me),  # b_did(5)'s like was landed before
        ]
    )
    assert [f.handle for f in batch.failures] == ["broken.bsky.social"]
    assert batch.failures[0].endpoint == "/xrpc/app.bsky.actor.getProfile"


def test_collect_never_returns_a_seen_key_and_nothing_after_the_day(rsps, clock):
    world = MastodonWorld(rsps)
    world.serve()
    first = collect_day(mastodon_client(clock), ["alice"], DAY, seen_reaction_keys=set())
    keys = {reaction_key(r) for r in first.reactions}
    again = collect_day(mastodon_client(clock), ["alice"], DAY, seen_reaction_keys=keys)
    assert again.reactions == [] and len(again.posts) == 1
    end_of_day = at(1, 0)
    assert all(r["reacted_at"] is None or r["reacted_at"] < end_of_day for r in first.reactions)


def test_malformed_timeline_page_fails_only_that_account(rsps, clock):
    world = MastodonWorld(rsps)
    world.serve()
    rsps.get(
        "https://mastodon.test/api/v1/accounts/lookup",
        json=world.alice | {"id": "2", "acct": "carol"},
        match=[matchers.query_param_matcher({"acct": "carol"})],
    )
    rsps.get("https://mastodon.test/api/v1/accounts/2/statuses", body='[{"id": "1", "created_at"')
    batch = collect_day(mastodon_client(clock, retries=1), ["carol", "alice"], DAY, seen_reaction_keys=set())
    assert [a["handle"] for a in batch.accounts] == ["alice"]
    assert {p["account_id"] for p in batch.posts} == {"1"}
    [failure] = batch.failures
    assert failure.handle == "carol" and failure.endpoint == "/api/v1/accounts/:id/statuses"
    assert "undecodable JSON" in failure.message


def test_unchanged_counters_spare_the_reaction_endpoints(rsps, clock):
    """Once every reaction a post's counters announce is landed, its reaction endpoints are not called."""
    world = MastodonWorld(rsps)
    world.serve()
    first = collect_day(mastodon_client(clock), ["alice"], DAY, seen_reaction_keys=set())

    def reaction_calls():
        return [c for c in rsps.calls if "/favourited_by" in c.request.url or "/reblogged_by" in c.request.url]

    called_before = len(reaction_calls())
    assert called_before > 0
    landed = {reaction_key(r) for r in first.reactions}
    collect_day(mastodon_client(clock), ["alice"], DAY, seen_reaction_keys=landed)
    assert len(reaction_calls()) == called_before


class _Resolver:
    """Counts resolutions; `flaky` fails its first one."""

    network = "mastodon"

    def __init__(self):
        self.calls: list[str] = []

    def resolve_account(self, handle):
        self.calls.append(handle)
        if handle == "flaky" and self.calls.count("flaky") == 1:
            raise ConnectorError("mastodon", "/lookup", handle, "HTTP 503")
        return AccountSnapshot(f"id-{handle}", handle, {"acct": handle})

    def recent_posts(self, account):
        return iter(())


def test_a_day_resolves_each_account_once_and_retries_a_failed_one():
    inner = _Resolver()
    client = ResolvedOnce(inner)
    assert client.resolve_account("a") == client.resolve_account("a") == AccountSnapshot("id-a", "a", {"acct": "a"})
    with pytest.raises(ConnectorError):
        client.resolve_account("flaky")
    assert client.resolve_account("flaky").account_id == "id-flaky"  # a failure is not kept
    assert inner.calls == ["a", "flaky", "flaky"]
    assert client.network == "mastodon" and list(client.recent_posts(None)) == []  # the rest is the client's
    assert getattr(client, "account_is_private", None) is None  # what the client lacks, it still lacks


class _LockedResolver(_Resolver):
    """`locked` is an account its network marks private today; posts asked for are counted."""

    def account_is_private(self, account_id):
        return account_id == "id-locked"

    def recent_posts(self, account):
        self.calls.append(f"posts of {account.handle}")
        return iter(())


def test_a_tracked_account_turned_private_is_neither_fetched_nor_landed():
    inner = _LockedResolver()
    client = ResolvedOnce(inner)
    gate, _ = gate_for(client, "mastodon", {}, {}, ["a", "locked"], [], set(), "s")
    batch = collect_day(client, ["a", "locked"], DAY, seen_reaction_keys=set(), privacy=gate)
    assert [a["handle"] for a in batch.accounts] == ["a"] and not batch.failures
    assert "posts of a" in inner.calls and "posts of locked" not in inner.calls


def test_mastodon_knows_an_account_is_locked_from_its_lookup_without_asking_again(rsps, clock):
    world = MastodonWorld(rsps)
    world.serve()
    client = mastodon_client(clock, retries=1)
    account = client.resolve_account("alice")
    asked = len(rsps.calls)
    assert client.account_is_private(account.account_id) is False
    assert len(rsps.calls) == asked
