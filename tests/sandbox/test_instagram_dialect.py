"""The sandbox's Instagram dialect answers as the Instagram Graph API does (field lists in
tests/fixtures/instagram): business discovery, media and comment paging, tags, errors, usage headers."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from connectors.facebook import meta_rate_signal
from connectors.instagram import COMMENT_FIELDS, MEDIA_FIELDS, USER_FIELDS
from sandbox.server import RateLimitConfig, SandboxServer

FIELDS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "instagram" / "node_fields.json").read_text())


def walk(http, url, params):
    items, seen = [], []
    while url:
        body = http.get(url, params=params).json()
        seen.append(body)
        items += body["data"]
        url, params = (body.get("paging") or {}).get("next"), None
    return items, seen


def test_business_discovery_finds_an_account_by_username(world, base, http):
    acc = world.accounts[world.accounts.network == "instagram"].iloc[0]
    body = http.get(
        f"{base}/v22.0/me", params={"fields": f"business_discovery.username({acc.handle}){{{USER_FIELDS}}}"}
    ).json()
    user = body["business_discovery"]
    assert set(user) <= set(FIELDS["IGUser"]) and user["id"] == acc.account_id and user["username"] == acc.handle
    missing = http.get(f"{base}/v22.0/me", params={"fields": "business_discovery.username(nobody_here){id}"})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 110


def test_media_newest_first_with_cursor_paging(world, base, http):
    ig = world.posts[world.posts.network == "instagram"]
    author = ig.account_id.value_counts().index[0]
    items, seen = walk(http, f"{base}/v22.0/{author}/media", {"fields": MEDIA_FIELDS, "limit": 2})
    expected = ig[ig.account_id == author].sort_values("created_at", ascending=False)
    assert [m["id"] for m in items] == expected.post_id.tolist()
    assert all(set(m) <= set(FIELDS["IGMedia"]) for m in items)
    assert "next" not in seen[-1].get("paging", {}) and all("next" in b["paging"] for b in seen[:-1])


def test_comments_carry_from_and_timestamp(world, base, http):
    comments = world.reactions[(world.reactions.network == "instagram") & (world.reactions.reaction_type == "comment")]
    post_id = comments.post_id.value_counts().index[0]
    items, _ = walk(http, f"{base}/v22.0/{post_id}/comments", {"fields": COMMENT_FIELDS, "limit": 2})
    truth = comments[comments.post_id == post_id].sort_values("seq", ascending=False)
    assert [c["from"]["id"] for c in items] == truth.reactor_account_id.tolist()
    assert all(set(c) <= set(FIELDS["IGComment"]) and set(c["from"]) <= set(FIELDS["IGCommentFromUser"]) for c in items)
    media = http.get(f"{base}/v22.0/{post_id}", params={"fields": MEDIA_FIELDS}).json()
    assert media["comments_count"] == len(truth) and media["like_count"] >= 0


def test_tags_list_the_media_mentioning_the_account(world, base, http):
    ig = world.posts[world.posts.network == "instagram"].explode("mentions").dropna(subset=["mentions"])
    target = ig.mentions.value_counts().index[0]
    items, _ = walk(http, f"{base}/v22.0/{target}/tags", {"fields": "id,caption,timestamp,username"})
    assert sorted(m["id"] for m in items) == sorted(ig[ig.mentions == target].post_id)


def test_usage_headers_use_the_instagram_business_use_case(world):
    user = world.accounts[world.accounts.network == "instagram"].account_id.iloc[0]
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=2, window_s=30)) as srv:
        answers = [requests.get(f"{srv.base_url}/v22.0/{user}") for _ in range(3)]
    (entry,) = next(iter(json.loads(answers[0].headers["X-Business-Use-Case-Usage"]).values()))
    assert entry["type"] == "instagram" and entry["call_count"] == 50
    throttled = answers[2]  # Meta's throttling: 400, the Instagram business use case's code, no Retry-After
    assert throttled.status_code == 400 and "Retry-After" not in throttled.headers
    assert throttled.json()["error"]["code"] == 80002 and throttled.json()["error"]["is_transient"] is True
    (spent,) = next(iter(json.loads(throttled.headers["X-Business-Use-Case-Usage"]).values()))
    assert spent["type"] == "instagram" and spent["call_count"] == 100
    signal = meta_rate_signal({k.lower(): v for k, v in throttled.headers.items()}, {}, 0.0)
    assert signal.remaining == 0 and signal.backoff_seconds == 60 * spent["estimated_time_to_regain_access"]
