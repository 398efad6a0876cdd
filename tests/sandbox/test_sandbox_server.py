"""The HTTP dialects: documented shapes, pagination, clock, rate limits, faults, ground truth."""

import json
from datetime import timedelta

import pytest
import requests
from served_shapes import missing_keys

from sandbox.server import FaultConfig, RateLimitConfig, SandboxServer
from sandbox.world import end_of_day


def walk_link(http, url):
    """Follow rel=next Link headers; yields each page's JSON."""
    while url:
        resp = http.get(url)
        assert resp.status_code == 200, resp.text
        yield resp.json()
        url = resp.links.get("next", {}).get("url")


def walk_cursor(http, url, params, key):
    while True:
        body = http.get(url, params=params).json()
        yield from body[key]
        if "cursor" not in body:
            return
        params = {**params, "cursor": body["cursor"]}


def busiest(world, network, rtype):
    r = world.reactions[(world.reactions.network == network) & (world.reactions.reaction_type == rtype)]
    return r.post_id.value_counts().index[0]


def test_mastodon_entities_carry_documented_fields(world, base, http, mastodon_examples):
    account_keys = {**mastodon_examples["Account"], **mastodon_examples["Status"]["account"]}
    author = world.posts[(world.posts.network == "mastodon") & (world.posts.mentions.map(len) > 0)].iloc[0]
    acc = http.get(f"{base}/api/v1/accounts/{author.account_id}").json()
    assert missing_keys(account_keys, acc) == []
    statuses = http.get(f"{base}/api/v1/accounts/{author.account_id}/statuses", params={"limit": 40}).json()
    assert statuses
    for status in statuses:
        assert missing_keys(mastodon_examples["Status"], status) == []
        assert missing_keys(account_keys, status["account"]) == []
        assert status["content"].startswith("<p>") and status["created_at"].endswith("Z")
    mentioning = next(s for s in statuses if s["mentions"])
    assert set(mentioning["mentions"][0]) == {"id", "username", "url", "acct"}
    looked_up = http.get(f"{base}/api/v1/accounts/lookup", params={"acct": acc["acct"]}).json()
    assert looked_up["id"] == acc["id"]
    missing = http.get(f"{base}/api/v1/accounts/lookup", params={"acct": "nobody"})
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    assert "X-RateLimit-Reset" in missing.headers


def test_mastodon_pagination_covers_everything_once(world, base, http):
    account = world.posts[world.posts.network == "mastodon"].account_id.value_counts().index[0]
    pages = list(walk_link(http, f"{base}/api/v1/accounts/{account}/statuses?limit=7"))
    ids = [s["id"] for page in pages for s in page]
    posts = world.posts
    expected = posts[(posts.account_id == account) & (posts.created_at <= end_of_day(world.config.end_date))].post_id
    assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids))
    assert ids == sorted(ids, key=int, reverse=True)

    post = busiest(world, "mastodon", "favourite")
    favs = [a["id"] for page in walk_link(http, f"{base}/api/v1/statuses/{post}/favourited_by?limit=2") for a in page]
    r = world.reactions
    truth = r[(r.post_id == post) & (r.reaction_type == "favourite")].reactor_account_id
    assert sorted(favs) == sorted(truth)
    status = http.get(f"{base}/api/v1/statuses/{post}").json()
    assert status["favourites_count"] == len(truth)


def test_mastodon_context_lists_replies(world, base, http):
    post = busiest(world, "mastodon", "reply")
    ctx = http.get(f"{base}/api/v1/statuses/{post}/context").json()
    assert ctx["ancestors"] == [] and ctx["descendants"]
    assert all(d["in_reply_to_id"] == post for d in ctx["descendants"])


def test_bluesky_responses_match_lexicons(world, base, http, lexicons):
    post_id = busiest(world, "bluesky", "like")
    did = world.posts.set_index("post_id").account_id[post_id]
    calls = {
        "app.bsky.actor.getProfile": {"actor": did},
        "app.bsky.feed.getAuthorFeed": {"actor": did, "limit": 100},
        "app.bsky.feed.getLikes": {"uri": post_id},
        "app.bsky.feed.getRepostedBy": {"uri": busiest(world, "bluesky", "repost")},
        "app.bsky.feed.getPostThread": {"uri": busiest(world, "bluesky", "reply")},
        "app.bsky.feed.getQuotes": {"uri": busiest(world, "bluesky", "quote")},
    }
    for nsid, params in calls.items():
        resp = http.get(f"{base}/xrpc/{nsid}", params=params)
        assert resp.status_code == 200, resp.text
        assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"} <= set(resp.headers)
        lexicons.validate_output(nsid, resp.json())
    feed = http.get(f"{base}/xrpc/app.bsky.feed.getAuthorFeed", params={"actor": did, "limit": 100}).json()["feed"]
    for item in feed:
        lexicons.validate_record(item["post"]["record"])
    quotes = http.get(f"{base}/xrpc/app.bsky.feed.getQuotes", params=calls["app.bsky.feed.getQuotes"]).json()
    assert quotes["posts"][0]["record"]["embed"]["$type"] == "app.bsky.embed.record"
    bad = http.get(f"{base}/xrpc/app.bsky.feed.getPostThread", params={"uri": "at://did:plc:none/app.bsky.feed.post/x"})
    assert bad.status_code == 400 and bad.json()["error"] == "NotFound"
    assert http.get(f"{base}/xrpc/app.bsky.actor.getProfile").json()["error"] == "InvalidRequest"


def test_bluesky_cursor_pagination(world, base, http):
    did = world.posts[world.posts.network == "bluesky"].account_id.value_counts().index[0]
    uris = [
        f["post"]["uri"]
        for f in walk_cursor(http, f"{base}/xrpc/app.bsky.feed.getAuthorFeed", {"actor": did, "limit": 3}, "feed")
    ]
    assert sorted(uris) == sorted(world.posts[world.posts.account_id == did].post_id)
    assert len(uris) == len(set(uris))
    post = busiest(world, "bluesky", "like")
    likes = [
        like["actor"]["did"]
        for like in walk_cursor(http, f"{base}/xrpc/app.bsky.feed.getLikes", {"uri": post, "limit": 2}, "likes")
    ]
    r = world.reactions
    assert sorted(likes) == sorted(r[(r.post_id == post) & (r.reaction_type == "like")].reactor_account_id)


def test_clock_hides_the_future(world, server, base, http):
    post = busiest(world, "bluesky", "like")
    r = world.reactions[(world.reactions.post_id == post) & (world.reactions.reaction_type == "like")]
    cut = r.created_at.iloc[len(r) // 2]
    requests.post(f"{base}/_sandbox/clock", json={"now": cut.isoformat()}).raise_for_status()
    likes = http.get(f"{base}/xrpc/app.bsky.feed.getLikes", params={"uri": post, "limit": 100}).json()["likes"]
    assert len(likes) == (r.created_at <= cut).sum()
    did = world.posts.set_index("post_id").account_id[post]
    feed = http.get(f"{base}/xrpc/app.bsky.feed.getAuthorFeed", params={"actor": did, "limit": 100}).json()["feed"]
    assert all(f["post"]["indexedAt"] <= cut.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for f in feed)
    assert http.get(f"{base}/_sandbox/health").json()["status"] == "ok"
    server.set_clock(end_of_day(world.config.start_date) - timedelta(days=1))
    assert http.get(f"{base}/api/v1/statuses/{busiest(world, 'mastodon', 'favourite')}").status_code == 404


def test_a_network_clock_moves_only_that_network(world, server, base, http):
    """Networks landed at once may be on different days: each may have its own clock."""
    toot = f"{base}/api/v1/statuses/{busiest(world, 'mastodon', 'favourite')}"
    post = busiest(world, "bluesky", "like")
    likes = f"{base}/xrpc/app.bsky.feed.getLikes"
    before = end_of_day(world.config.start_date) - timedelta(days=1)
    try:
        requests.post(
            f"{base}/_sandbox/clock", json={"now": before.isoformat(), "network": "mastodon"}
        ).raise_for_status()
        assert http.get(toot).status_code == 404  # mastodon's clock: before the world began
        assert http.get(likes, params={"uri": post, "limit": 100}).json()["likes"]  # bluesky's: the world's
        server.set_clock(end_of_day(world.config.end_date))  # the world's clock resets every network's
        assert http.get(toot).status_code == 200
        bad = requests.post(f"{base}/_sandbox/clock", json={"now": before.isoformat(), "network": "myspace"})
        assert bad.status_code == 400
    finally:
        server.set_clock(end_of_day(world.config.end_date))


def test_platform_api(world, base, http):
    profiles = list(walk_pages(http, f"{base}/platform/v1/profiles"))
    assert len(profiles) == world.persons.registered.sum()
    assert any(p["linked_accounts"] for p in profiles)
    day = world.config.end_date
    gives = list(walk_pages(http, f"{base}/platform/v1/kplus", date=day.isoformat()))
    assert len(gives) == (world.kplus_gives.given_at.dt.date == day).sum()
    assert list(walk_pages(http, f"{base}/platform/v1/campaigns"))


def walk_pages(http, url, **params):
    page = 1
    while True:
        body = http.get(url, params={**params, "page": page, "per_page": 25}).json()
        yield from body["items"]
        if not body["has_more"]:
            return
        page += 1


def test_rate_limit_answers_429(world):
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=3, window_s=30)) as srv:
        statuses = [
            requests.get(
                f"{srv.base_url}/xrpc/app.bsky.actor.getProfile", params={"actor": world.public_handles.handle.iloc[0]}
            )
            for _ in range(5)
        ]
    assert [s.status_code for s in statuses[:3]] == [200, 200, 200]
    assert statuses[3].status_code == 429 and int(statuses[3].headers["Retry-After"]) >= 1
    assert statuses[3].headers["RateLimit-Remaining"] == "0"


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "slow", "truncated"])
def test_faults_are_injected_and_retries_succeed(world, kind):
    account = world.accounts[world.accounts.network == "mastodon"].account_id.iloc[0]
    faults = FaultConfig(seed=3, rate=1.0, kinds=(kind,), slow_seconds=0.3)
    with SandboxServer(world, faults=faults) as srv:
        url = f"{srv.base_url}/api/v1/accounts/{account}"
        first = requests.get(url)
        second = requests.get(url)
        log = srv.request_log
    if kind in ("429", "500", "502", "503"):
        assert first.status_code == int(kind)
    if kind == "truncated":
        with pytest.raises(json.JSONDecodeError):
            json.loads(first.text)
    if kind == "429":
        assert "Retry-After" in first.headers
    assert log[0]["fault"] == kind and log[1]["fault"] is None
    assert second.status_code == 200 and second.json()["id"] == account
    if kind == "slow":
        assert log[1]["monotonic"] - log[0]["monotonic"] >= 0.3


def test_served_data_matches_ground_truth(world, base, http):
    """A naive one-shot ingest at the default clock equals ground truth for the last day."""
    day = world.config.end_date
    for network in ("mastodon", "bluesky"):
        tracked = world.tracked_account_ids(network)
        gt = world.ground_truth(network, day, day, tracked)
        posts, reactions = set(), set()
        for account in tracked:
            if network == "mastodon":
                items = [
                    s for page in walk_link(http, f"{base}/api/v1/accounts/{account}/statuses?limit=40") for s in page
                ]
                for s in items:
                    created = s["created_at"][:10]
                    if created == day.isoformat():
                        posts.add(s["id"])
                        reactions |= {(s["id"], account, "mention") for _ in s["mentions"]}
                    if created < (day - timedelta(days=7)).isoformat() or s["in_reply_to_id"]:
                        continue
                    for rtype, path in (("favourite", "favourited_by"), ("reblog", "reblogged_by")):
                        for page in walk_link(http, f"{base}/api/v1/statuses/{s['id']}/{path}?limit=80"):
                            reactions |= {(s["id"], a["id"], rtype) for a in page}
                    ctx = http.get(f"{base}/api/v1/statuses/{s['id']}/context").json()
                    reactions |= {(s["id"], d["account"]["id"], "reply") for d in ctx["descendants"]}
            else:
                feed = list(
                    walk_cursor(
                        http, f"{base}/xrpc/app.bsky.feed.getAuthorFeed", {"actor": account, "limit": 100}, "feed"
                    )
                )
                for item in feed:
                    p = item["post"]
                    created = p["record"]["createdAt"][:10]
                    if created == day.isoformat():
                        posts.add(p["uri"])
                        reactions |= {
                            (p["uri"], account, "mention")
                            for f in p["record"]["facets"]
                            if f["features"][0]["$type"].endswith("#mention")
                        }
                    if (
                        created < (day - timedelta(days=7)).isoformat()
                        or "reply" in p["record"]
                        or "embed" in p["record"]
                    ):
                        continue
                    q = {"uri": p["uri"], "limit": 100}
                    reactions |= {
                        (p["uri"], like["actor"]["did"], "like")
                        for like in walk_cursor(http, f"{base}/xrpc/app.bsky.feed.getLikes", q, "likes")
                    }
                    reactions |= {
                        (p["uri"], a["did"], "repost")
                        for a in walk_cursor(http, f"{base}/xrpc/app.bsky.feed.getRepostedBy", q, "repostedBy")
                    }
                    reactions |= {
                        (p["uri"], x["author"]["did"], "quote")
                        for x in walk_cursor(http, f"{base}/xrpc/app.bsky.feed.getQuotes", q, "posts")
                    }
                    thread = http.get(f"{base}/xrpc/app.bsky.feed.getPostThread", params={"uri": p["uri"]}).json()
                    reactions |= {(p["uri"], r["post"]["author"]["did"], "reply") for r in thread["thread"]["replies"]}
        assert posts == set(gt.posts.post_id), network
        expected = set(zip(gt.reactions.post_id, gt.reactions.reactor_account_id, gt.reactions.reaction_type))
        assert reactions == expected, network
