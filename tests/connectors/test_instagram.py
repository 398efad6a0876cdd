"""The Instagram client against Graph-API-style answers (tests/fixtures/instagram)."""

from __future__ import annotations

import json
from pathlib import Path

from connector_helpers import http
from responses import matchers

import connectors
from connectors.facebook import meta_rate_signal
from connectors.instagram import InstagramClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "instagram"
GRAPH = "https://graph.test/v22.0"
USER = "17841400000000042"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def client(clock) -> InstagramClient:
    return InstagramClient(http("instagram", "https://graph.test", clock))


def test_spec_reuses_meta_rate_signal():
    spec = connectors.NETWORKS["instagram"]
    assert spec.env_prefix == "INSTAGRAM" and spec.reaction_types == ("comment",)
    assert spec.rate_signals is meta_rate_signal
    assert spec.account_counts == {
        "followers_count": "followers_count",
        "following_count": "follows_count",
        "posts_count": "media_count",
    }


def test_media_paging_counts_and_caption_mentions(rsps, clock):
    rsps.get(
        f"{GRAPH}/me",
        json=fixture("discovery.json"),
        match=[_fields_start("business_discovery.username(sandbox_bakery)")],
    )
    rsps.get(
        f"{GRAPH}/me",
        json=fixture("discovery.friend.json"),
        match=[_fields_start("business_discovery.username(corner_cafe)")],
    )
    rsps.get(
        f"{GRAPH}/me",
        json=fixture("error.invalid_user.json"),
        status=400,
        match=[_fields_start("business_discovery.username(nobody_here)")],
    )
    first = rsps.get(f"{GRAPH}/{USER}/media", json=fixture("media.page1.json"), match=[_no("after")])
    second = rsps.get(
        f"{GRAPH}/{USER}/media",
        json=fixture("media.page2.json"),
        match=[matchers.query_param_matcher({"after": "QVFIUmFmdGVy"}, strict_match=False)],
    )
    ig = client(clock)
    account = ig.resolve_account("sandbox_bakery")
    assert account.account_id == USER and account.payload["media_count"] == 240
    posts = list(ig.recent_posts(account))
    assert [p.post_id for p in posts] == ["17900000000000002", "17900000000000001"]
    assert first.call_count == second.call_count == 1
    assert posts[0].reaction_counts == {"comment": 2, "like": 14}
    assert posts[0].mentioned_account_ids == ("17841400000000077",)  # the unknown username is skipped
    assert set(ig.accounts_named(posts[0].payload)) == set()  # a media node is not a user


def test_comments_and_replies_name_their_authors_likes_name_nobody(rsps, clock):
    rsps.get(f"{GRAPH}/me", json=fixture("discovery.json"))
    rsps.get(f"{GRAPH}/{USER}/media", json=fixture("media.page2.json") | {"data": fixture("media.page1.json")["data"]})
    rsps.get(f"{GRAPH}/17900000000000002/comments", json=fixture("comments.json"))
    rsps.get(f"{GRAPH}/me", json=fixture("discovery.friend.json"))
    ig = client(clock)
    ig._ids.update({"corner_cafe": "17841400000000077", "nobody_here": None})
    post = next(iter(ig.recent_posts(ig.resolve_account("sandbox_bakery"))))
    found = list(ig.reactions(post, "comment"))
    assert [(r.reactor_account_id, r.reacted_at.isoformat()) for r in found] == [
        ("17841400000000077", "2026-03-30T10:56:52+00:00"),
        ("17841400000000088", "2026-03-30T11:30:00+00:00"),  # a reply; the owner's own reply is not a reaction
    ]
    calls = len(rsps.calls)
    assert list(ig.reactions(post, "like")) == [] and len(rsps.calls) == calls
    assert set(ig.accounts_named(found[0].payload)) == {"17841400000000077", "17841400000000042", "17841400000000088"}


def test_throttled_answers_are_retried(rsps, clock):
    throttled = {
        "error": {
            "message": "(#80002) There have been too many calls to this Instagram account.",
            "type": "OAuthException",
            "code": 80002,
            "fbtrace_id": "Ax",
        }
    }
    rsps.get(f"{GRAPH}/me", json=throttled, status=400)
    rsps.get(f"{GRAPH}/me", json=fixture("discovery.json"))
    assert client(clock).resolve_account("sandbox_bakery").account_id == USER
    assert len(rsps.calls) == 2


def _fields_start(prefix: str):
    def match(request):
        return (request.params.get("fields", "").startswith(prefix), f"fields do not start with {prefix}")

    return match


def _no(name: str):
    def match(request):
        return (name not in request.params, f"{name} present")

    return match
