"""The sandbox's Foursquare v2 user endpoints: documented field names (our fixtures), the
meta/response envelope, `v` and the owner's own `oauth_token` required, offset paging and the
timestamp bounds, what check-ins and tips carry, the token store, the rate-limit headers and the
403 rate_limit_exceeded of a spent window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from served_shapes import missing_keys

from connectors import make_client
from connectors.ingest import collect_day
from sandbox.dialects.foursquare import is_tip, issued_token
from sandbox.server import RateLimitConfig, SandboxServer
from sandbox.world import end_of_day

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "foursquare"
V = "20231010"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def owner(world):
    """The connected person with the most check-ins (and a tip), their handle and token."""
    links = world.profile_links[world.profile_links.network == "foursquare"]
    posts = world.posts[world.posts.account_id.isin(set(links.account_id))]
    with_tips = posts[posts.post_id.map(is_tip)].account_id
    best = posts[posts.account_id.isin(set(with_tips))].account_id.value_counts().index[0]
    handle = links.set_index("account_id").loc[best, "handle"]
    return best, handle, issued_token(best)


def get(http, base, path, **params):
    return http.get(f"{base}/v2/{path}", params=params, timeout=10)


def test_the_envelope_and_documented_fields(http, base, owner):
    account_id, _, token = owner
    me = get(http, base, "users/self", v=V, oauth_token=token)
    body = me.json()
    assert me.status_code == 200 and body["meta"]["code"] == 200 and "requestId" in body["meta"]
    assert not missing_keys(fixture("users.self")["response"]["user"], body["response"]["user"], "user.")
    assert body["response"]["user"]["id"] == account_id
    assert {"friends", "checkins", "tips"} <= set(body["response"]["user"])
    checkins = get(http, base, "users/self/checkins", v=V, oauth_token=token, limit=250).json()["response"]
    example = fixture("users.self.checkins.page1")["response"]["checkins"]["items"][0]
    liked = [c for c in checkins["checkins"]["items"] if c["likes"]["count"]]  # a like summary only then
    assert liked and not missing_keys(example, liked[0])
    tips = get(http, base, "lists/self/tips", v=V, oauth_token=token).json()["response"]["list"]
    example = fixture("lists.self.tips")["response"]["list"]
    assert tips["listItems"]["items"]
    liked_tips = [t for t in tips["listItems"]["items"] if t["tip"]["likes"]["count"]]  # a like summary only then
    bare = {k: v for k, v in tips.items() if k != "listItems"}
    assert not missing_keys({k: v for k, v in example.items() if k != "listItems"}, bare)
    item = example["listItems"]["items"][0]
    for tip in liked_tips[:1] or tips["listItems"]["items"][:1]:
        expected = item if liked_tips else {**item, "tip": {**item["tip"], "likes": {"count": 0, "groups": []}}}
        assert not missing_keys(expected, tip)


def test_version_and_the_owners_token_are_required(http, base, owner):
    _, _, token = owner
    missing = get(http, base, "users/self", oauth_token=token)
    assert missing.status_code == 400 and missing.json()["meta"]["errorType"] == "param_error"
    assert get(http, base, "users/self", v="2023-10-10", oauth_token=token).json()["meta"]["errorType"] == "param_error"
    for bad in ({}, {"oauth_token": "NOT-A-TOKEN"}):
        refused = get(http, base, "users/self", v=V, **bad)
        assert refused.status_code == 401 and refused.json()["meta"]["errorType"] == "invalid_auth"
        assert refused.json()["response"] == {}


def test_checkins_page_by_offset_newest_first_within_the_timestamp_bounds(http, base, owner, world):
    account_id, _, token = owner
    everything = get(http, base, "users/self/checkins", v=V, oauth_token=token, limit=250).json()["response"]
    items = everything["checkins"]["items"]
    assert len(items) == everything["checkins"]["count"] > 2
    assert [c["createdAt"] for c in items] == sorted((c["createdAt"] for c in items), reverse=True)
    assert not any(is_tip(c["id"]) for c in items)
    paged, offset = [], 0
    while offset < len(items):
        page = get(http, base, "users/self/checkins", v=V, oauth_token=token, limit=2, offset=offset).json()
        paged += page["response"]["checkins"]["items"]
        offset += 2
    assert [c["id"] for c in paged] == [c["id"] for c in items]
    middle = items[len(items) // 2]["createdAt"]
    after = get(http, base, "users/self/checkins", v=V, oauth_token=token, limit=250, afterTimestamp=middle).json()
    assert all(c["createdAt"] > middle for c in after["response"]["checkins"]["items"])
    before = get(http, base, "users/self/checkins", v=V, oauth_token=token, limit=250, beforeTimestamp=middle).json()
    assert all(c["createdAt"] < middle for c in before["response"]["checkins"]["items"])


def test_likes_and_comments_name_people_and_tips_count_todos_and_dones(http, base, world):
    reactions = world.reactions[world.reactions.network == "foursquare"]
    tips = reactions.post_id.map(is_tip)
    assert set(reactions[tips].reaction_type) == {"like", "todo", "done"}
    assert set(reactions[~tips].reaction_type) == {"like", "comment", "mention"}
    linked = set(world.profile_links.loc[world.profile_links.network == "foursquare", "account_id"])
    reactions = reactions[
        reactions.target_account_id.isin(linked) & (reactions.created_at <= end_of_day(world.config.end_date))
    ]
    commented = reactions[reactions.reaction_type == "comment"].iloc[0]
    token = issued_token(commented.target_account_id)
    detail = get(http, base, f"checkins/{commented.post_id}", v=V, oauth_token=token).json()["response"]["checkin"]
    assert commented.reactor_account_id in {c["user"]["id"] for c in detail["comments"]["items"]}
    assert all(isinstance(c["createdAt"], int) and c["text"] for c in detail["comments"]["items"])
    liked = reactions[reactions.reaction_type == "like"].iloc[0]
    kind = "tips" if is_tip(liked.post_id) else "checkins"
    likes = get(http, base, f"{kind}/{liked.post_id}/likes", v=V, oauth_token=issued_token(liked.target_account_id))
    groups = likes.json()["response"]["likes"]["groups"]
    assert liked.reactor_account_id in {u["id"] for g in groups for u in g["items"]}
    assert "createdAt" not in groups[0]["items"][0]  # a like has no time
    wrong = "checkins" if kind == "tips" else "tips"
    refused = get(http, base, f"{wrong}/{liked.post_id}/likes", v=V, oauth_token=issued_token(liked.target_account_id))
    assert refused.status_code == 400 and refused.json()["meta"]["errorType"] == "param_error"


def test_the_token_store_holds_only_connected_people_and_no_public_accounts(server, world, http, base):
    links = world.profile_links[world.profile_links.network == "foursquare"]
    tokens = http.get(f"{base}/_sandbox/tokens/foursquare", timeout=10).json()["tokens"]
    assert set(tokens) == set(links.handle) and len(tokens) > 3
    assert http.get(f"{base}/_sandbox/tokens/mastodon", timeout=10).json()["tokens"] == {}
    assert "foursquare" not in set(world.public_handles.network)  # nobody else's check-ins are readable


def test_a_person_without_a_token_is_skipped_and_the_others_land(server, world, base):
    tokens = server.person_tokens("foursquare")
    skipped, *kept = sorted(tokens)
    client = make_client("foursquare", base, client_caps=False)
    client.use_tokens({h: tokens[h] for h in kept})
    batch = collect_day(client, sorted(tokens), world.config.end_date, seen_reaction_keys=set())
    assert not batch.failures
    assert sorted(a["handle"] for a in batch.accounts) == kept


def test_rate_headers_and_a_spent_window(world):
    account = world.profile_links[world.profile_links.network == "foursquare"].account_id.iloc[0]
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=2, window_s=30)) as server:
        server.set_clock(end_of_day(world.config.end_date))
        import requests

        answers = [
            requests.get(f"{server.base_url}/v2/users/self", params={"v": V, "oauth_token": issued_token(account)})
            for _ in range(3)
        ]
    assert answers[0].headers["X-RateLimit-Limit"] == "2" and answers[0].headers["X-RateLimit-Remaining"] == "1"
    assert int(answers[0].headers["X-RateLimit-Reset"]) > 1_700_000_000
    spent = answers[2]
    assert spent.status_code == 403 and spent.json()["meta"]["errorType"] == "rate_limit_exceeded"
    assert spent.headers["X-RateLimit-Remaining"] == "0"
