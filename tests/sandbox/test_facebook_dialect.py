"""The sandbox's Facebook Pages dialect answers as the Graph API does: node and edge fields, cursor
paging, error bodies and usage headers (the field lists in tests/fixtures/facebook)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests

from connectors.facebook import POST_FIELDS, THROTTLE_CODES, meta_rate_signal
from sandbox.server import FaultConfig, RateLimitConfig, SandboxServer

FIELDS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "facebook" / "node_fields.json").read_text())
GRAPH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


def pages(world):
    return world.accounts[world.accounts.network == "facebook"]


def busiest_post(world, reaction_type):
    fb = world.reactions[(world.reactions.network == "facebook") & (world.reactions.reaction_type == reaction_type)]
    return fb.post_id.value_counts().index[0]


def walk(http, url, params):
    """Every item of an edge, following `paging.next`; also the pages seen."""
    seen, items = [], []
    while url:
        body = http.get(url, params=params).json()
        seen.append(body)
        items += body["data"]
        url, params = (body.get("paging") or {}).get("next"), None
    return items, seen


def test_page_by_username_and_id_carries_documented_fields(world, base, http):
    page = pages(world).iloc[0]
    fields = "id,username,name,fan_count,followers_count"
    by_name = http.get(f"{base}/v21.0/{page.handle}", params={"fields": fields}).json()
    by_id = http.get(f"{base}/v21.0/{page.account_id}", params={"fields": fields}).json()
    assert by_name == by_id and set(by_name) == set(fields.split(",")) <= set(FIELDS["Page"])
    assert by_name["followers_count"] == page.followers_count and by_name["id"] == page.account_id
    assert set(http.get(f"{base}/v21.0/{page.account_id}").json()) == {"id", "name"}  # default fields


def test_posts_newest_first_with_cursor_paging_and_summaries(world, base, http):
    author = world.posts[world.posts.network == "facebook"].account_id.value_counts().index[0]
    url = f"{base}/v21.0/{author}/posts"
    items, seen = walk(http, url, {"fields": POST_FIELDS, "limit": 2})
    expected = world.posts[world.posts.account_id == author].sort_values("created_at", ascending=False)
    assert [p["id"] for p in items] == expected.post_id.tolist()
    assert all(set(p) <= set(FIELDS["PagePost"]) and GRAPH_TIME.match(p["created_time"]) for p in items)
    assert all(set(b["paging"]["cursors"]) == {"before", "after"} for b in seen if b["data"])
    assert "next" not in seen[-1].get("paging", {}) and all("next" in b["paging"] for b in seen[:-1])
    for post in items:
        assert set(post["reactions"]) == {"data", "summary"} and post["reactions"]["data"] == []
        for tag in post.get("message_tags", []):
            assert set(tag) <= set(FIELDS["EntityAtTextRange"])
            assert post["message"][tag["offset"] : tag["offset"] + tag["length"]] == tag["name"]
    # since/until bound the edge (unix seconds)
    newest = expected.created_at.iloc[0]
    since = int(newest.timestamp()) - 1
    recent = http.get(url, params={"since": since}).json()["data"]
    assert [p["id"] for p in recent] == [expected.post_id.iloc[0]]


def test_reactions_name_the_profile_and_type_without_time(world, base, http):
    post_id = busiest_post(world, "reaction")
    items, _ = walk(http, f"{base}/v21.0/{post_id}/reactions", {"limit": 3})
    truth = world.reactions[(world.reactions.post_id == post_id) & (world.reactions.reaction_type == "reaction")]
    assert sorted(r["id"] for r in items) == sorted(truth.reactor_account_id)
    assert all(set(r) <= set(FIELDS["Profile"]) and r["type"] in FIELDS["reaction_types"] for r in items)
    assert all("created_time" not in r for r in items)
    post = http.get(f"{base}/v21.0/{post_id}", params={"fields": POST_FIELDS}).json()
    assert post["reactions"]["summary"]["total_count"] == len(truth)
    shares = world.reactions[(world.reactions.post_id == post_id) & (world.reactions.reaction_type == "share")]
    assert (post.get("shares") or {"count": 0})["count"] == len(shares)  # a count only: nobody to list


def test_comments_carry_from_and_created_time(world, base, http):
    post_id = busiest_post(world, "comment")
    items, _ = walk(http, f"{base}/v21.0/{post_id}/comments", {"limit": 2, "order": "chronological"})
    truth = world.reactions[(world.reactions.post_id == post_id) & (world.reactions.reaction_type == "comment")]
    assert [c["from"]["id"] for c in items] == truth.sort_values("seq").reactor_account_id.tolist()
    assert all(set(c) <= set(FIELDS["Comment"]) and GRAPH_TIME.match(c["created_time"]) for c in items)


def test_errors_use_the_graph_error_body(world, base, http):
    missing = http.get(f"{base}/v21.0/no-such-page")
    assert missing.status_code == 400
    error = missing.json()["error"]
    assert set(error) <= set(FIELDS["error"]) and error["code"] == 100 and error["type"]
    bad = http.get(f"{base}/v21.0/{pages(world).account_id.iloc[0]}/posts", params={"since": "yesterday-ish"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 100


def test_usage_headers_count_up_and_throttling_says_when_access_returns(world):
    """A spent window is Meta's throttling: 400 with the Pages business use case's code, no
    Retry-After, usage at 100 % and the whole minutes (to the nearest) until the window renews."""
    page = pages(world).account_id.iloc[0]
    window_s = 3600.0
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=4, window_s=window_s)) as srv:
        answers = [requests.get(f"{srv.base_url}/v21.0/{page}") for _ in range(5)]
        reset_in = window_s - time.monotonic() % window_s  # the server's windows are monotonic-aligned
    usage = [json.loads(a.headers["X-App-Usage"]) for a in answers]
    assert all(set(u) == set(FIELDS["usage"]) for u in usage)
    assert [u["call_count"] for u in usage] == [25, 50, 75, 100, 100]
    buc = json.loads(answers[4].headers["X-Business-Use-Case-Usage"])
    (entry,) = next(iter(buc.values()))
    assert set(entry) == set(FIELDS["business_use_case_usage"]) and entry["type"] == "pages"
    assert abs(entry["estimated_time_to_regain_access"] * 60 - reset_in) <= 31
    throttled = answers[4]
    assert throttled.status_code == 400 and "Retry-After" not in throttled.headers
    error = throttled.json()["error"]
    assert set(error) <= set(FIELDS["error"])
    assert (error["code"], error["type"], error["is_transient"]) == (80001, "OAuthException", True)
    signal = meta_rate_signal({k.lower(): v for k, v in throttled.headers.items()}, {}, 0.0)
    assert signal.remaining == 0 and signal.backoff_seconds == entry["estimated_time_to_regain_access"] * 60


@pytest.mark.parametrize("kind", ["429", "503", "truncated"])
def test_faults_speak_graph(world, kind):
    page = pages(world).account_id.iloc[0]
    with SandboxServer(world, faults=FaultConfig(seed=3, rate=1.0, kinds=(kind,))) as srv:
        first = requests.get(f"{srv.base_url}/v21.0/{page}")
        second = requests.get(f"{srv.base_url}/v21.0/{page}")
    if kind == "truncated":
        with pytest.raises(json.JSONDecodeError):
            json.loads(first.text)
    elif kind == "429":  # Meta throttles with an error code, not HTTP 429
        error = first.json()["error"]
        assert first.status_code in (400, 403) and error["code"] in THROTTLE_CODES and error["is_transient"] is True
        assert "Retry-After" not in first.headers
        assert json.loads(first.headers["X-App-Usage"])["call_count"] == 100
    else:
        error = first.json()["error"]
        assert error["code"] == 2 and error["is_transient"] is True
    assert second.status_code == 200 and second.json()["id"] == page
