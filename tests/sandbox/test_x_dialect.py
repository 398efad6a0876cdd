"""The sandbox's X API v2 against the shapes of tests/fixtures/x (written from the X API v2
reference): default and requested fields, includes, next_token paging, errors, rate-limit headers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from sandbox.server import RateLimitConfig, SandboxServer
from sandbox.world import end_of_day

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
USER_FIELDS = "created_at,description,protected,public_metrics,verified"
TWEET_FIELDS = "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,public_metrics,referenced_tweets"
SNOWFLAKE = re.compile(r"^[0-9]{1,19}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def x_posts(world):
    return world.posts[world.posts.network == "x"]


def busiest(world, rtype: str) -> str:
    r = world.reactions[(world.reactions.network == "x") & (world.reactions.reaction_type == rtype)]
    return r.post_id.value_counts().index[0]


def walk(http, url: str, params: dict, token_param: str = "pagination_token"):
    """Every page of an X list endpoint, following meta.next_token."""
    pages = []
    while True:
        resp = http.get(url, params=params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages.append(page)
        token = page["meta"].get("next_token")
        if not token:
            return pages
        params = {**params, token_param: token}


def assert_user_like(served: dict, example: dict) -> None:
    assert set(example) <= set(served), set(example) - set(served)
    if "public_metrics" in example:
        assert set(example["public_metrics"]) <= set(served["public_metrics"])
    assert SNOWFLAKE.match(served["id"]) and re.match(r"^[a-z0-9_]{1,15}$", served["username"])
    assert isinstance(served["protected"], bool)


def test_user_lookup_serves_default_fields_unless_asked(world, base, http):
    acc = world.accounts[world.accounts.network == "x"].iloc[0]
    bare = http.get(f"{base}/2/users/by/username/{acc.handle}").json()
    assert set(bare) == {"data"} and set(bare["data"]) == {"id", "name", "username"}
    full = http.get(f"{base}/2/users/by/username/{acc.handle.upper()}", params={"user.fields": USER_FIELDS}).json()
    assert_user_like(full["data"], fixture("user")["data"])
    assert ISO.match(full["data"]["created_at"])
    assert full["data"]["id"] == acc.account_id and full["data"]["protected"] == bool(acc.is_private)
    by_id = http.get(f"{base}/2/users/{acc.account_id}", params={"user.fields": USER_FIELDS}).json()
    assert by_id == full


def test_timeline_pages_cover_every_post_once_newest_first(world, base, http):
    author = x_posts(world).account_id.value_counts().index[0]
    expected = x_posts(world)[x_posts(world).account_id == author].sort_values("created_at", ascending=False)
    pages = walk(
        http,
        f"{base}/2/users/{author}/tweets",
        {"max_results": 5, "tweet.fields": TWEET_FIELDS, "expansions": "entities.mentions.username"},
    )
    assert len(pages) > 1
    served = [t for page in pages for t in page.get("data", [])]
    assert [t["id"] for t in served] == expected.post_id.tolist()
    example = fixture("tweets_page1")
    assert set(pages[0]["meta"]) == set(example["meta"])
    assert set(pages[-1]["meta"]) == set(fixture("tweets_page2")["meta"])
    assert {"result_count", "newest_id", "oldest_id"} <= set(pages[-1]["meta"])
    for tweet in served:
        assert {"id", "text", "edit_history_tweet_ids", "author_id", "created_at", "conversation_id"} <= set(tweet)
        assert set(example["data"][0]["public_metrics"]) == set(tweet["public_metrics"])
        assert ISO.match(tweet["created_at"]) and tweet["author_id"] == author
        for mention in tweet.get("entities", {}).get("mentions", []):
            assert set(mention) == set(example["data"][0]["entities"]["mentions"][0])
            assert tweet["text"][mention["start"] : mention["end"]] == "@" + mention["username"]
    mentioned = {m["id"] for t in served for m in t.get("entities", {}).get("mentions", [])}
    included = {u["id"] for page in pages for u in page.get("includes", {}).get("users", [])}
    assert mentioned == included
    bare = http.get(f"{base}/2/users/{author}/tweets").json()
    assert set(bare["data"][0]) == {"id", "text", "edit_history_tweet_ids"} and len(bare["data"]) <= 10


def test_likers_and_retweeters_page_through_every_reactor(world, base, http):
    for word, path in (("like", "liking_users"), ("retweet", "retweeted_by")):
        post_id = busiest(world, word)
        pages = walk(http, f"{base}/2/tweets/{post_id}/{path}", {"max_results": 2, "user.fields": USER_FIELDS})
        served = [u["id"] for page in pages for u in page.get("data", [])]
        r = world.reactions
        expected = r[(r.post_id == post_id) & (r.reaction_type == word)]
        assert sorted(served) == sorted(expected.reactor_account_id) and len(set(served)) == len(served)
        assert set(pages[0]["meta"]) == set(fixture("liking_users")["meta"])
        assert_user_like(pages[0]["data"][0], fixture("liking_users")["data"][0])
        tweet = http.get(
            f"{base}/2/users/{expected.target_account_id.iloc[0]}/tweets",
            params={"max_results": 100, "tweet.fields": "public_metrics"},
        ).json()
        counts = {t["id"]: t["public_metrics"] for t in tweet["data"]}
        assert counts[post_id][f"{word}_count"] == len(served)


def test_conversation_search_holds_the_post_and_its_replies(world, base, http):
    """Full-archive search from the post's time: the whole conversation, whatever its age."""
    post_id = busiest(world, "reply")
    created = x_posts(world).set_index("post_id").created_at[post_id]
    found = walk(
        http,
        f"{base}/2/tweets/search/all",
        {
            "query": f"conversation_id:{post_id}",
            "max_results": 10,
            "start_time": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
        },
        token_param="next_token",
    )
    tweets = [t for page in found for t in page.get("data", [])]
    replies = [t for t in tweets if t["id"] != post_id]
    assert post_id in {t["id"] for t in tweets}  # the root matches its own conversation_id
    assert all({"type": "replied_to", "id": post_id} in t["referenced_tweets"] for t in replies)
    assert all(t["conversation_id"] == post_id for t in tweets)
    r = world.reactions
    assert sorted(t["author_id"] for t in replies) == sorted(
        r[(r.post_id == post_id) & (r.reaction_type == "reply")].reactor_account_id
    )
    authors = {u["id"] for page in found for u in page["includes"]["users"]}
    assert {t["author_id"] for t in tweets} == authors
    assert set(found[0]["meta"]) <= set(fixture("search_conversation")["meta"]) | {"next_token"}


def test_recent_search_reaches_back_seven_days_only(world, server, base, http):
    """search/recent: without start_time, the last 7 days of the sandbox clock; an older
    start_time is a 400 invalid-request naming it. search/all reaches further back."""
    r = world.reactions
    replies = r[(r.network == "x") & (r.reaction_type == "reply")]
    post_id = replies.post_id.value_counts().index[0]
    times = replies[replies.post_id == post_id].created_at.sort_values()
    # the clock 7 days after the middle reply: older replies are out of recent's reach
    now = times.iloc[len(times) // 2] + pd.Timedelta(days=7)
    server.set_clock(now.to_pydatetime())
    try:
        url = f"{server.base_url}/2/tweets/search"
        params = {"query": f"conversation_id:{post_id}", "max_results": 100, "tweet.fields": "created_at"}
        recent = http.get(f"{url}/recent", params=params).json()
        horizon = now - pd.Timedelta(days=7)
        served = [pd.Timestamp(t["created_at"]) for t in recent.get("data", []) if t["id"] != post_id]
        assert served and all(t >= horizon for t in served)
        assert len(served) == int(((times >= horizon) & (times <= now)).sum())
        too_old = (horizon - pd.Timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        refused = http.get(f"{url}/recent", params={**params, "start_time": too_old})
        assert refused.status_code == 400
        problem = refused.json()
        assert problem["type"].endswith("/invalid-request") and problem["errors"][0]["parameters"] == {
            "start_time": [too_old]
        }
        assert "must be on or after" in problem["errors"][0]["message"]
        created = x_posts(world).set_index("post_id").created_at[post_id].strftime("%Y-%m-%dT%H:%M:%SZ")
        archive = http.get(f"{url}/all", params={**params, "max_results": 500, "start_time": created}).json()
        older = [t for t in archive["data"] if pd.Timestamp(t["created_at"]) < horizon and t["id"] != post_id]
        assert older  # search/all reaches what recent cannot
        assert http.get(f"{url}/all", params={**params, "max_results": 501}).status_code == 400
    finally:
        server.set_clock(end_of_day(world.config.end_date))


def test_quotes_and_mentions(world, base, http):
    post_id = busiest(world, "quote")
    page = http.get(
        f"{base}/2/tweets/{post_id}/quote_tweets",
        params={
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "protected",
        },
    ).json()
    r = world.reactions
    expected = r[(r.post_id == post_id) & (r.reaction_type == "quote")]
    assert sorted(t["author_id"] for t in page["data"]) == sorted(expected.reactor_account_id)
    assert all({"type": "quoted", "id": post_id} in t["referenced_tweets"] for t in page["data"])
    assert set(page) == set(fixture("quote_tweets"))
    mentions = r[(r.network == "x") & (r.reaction_type == "mention")]
    target = mentions.target_account_id.value_counts().index[0]
    served = [
        t["id"] for p in walk(http, f"{base}/2/users/{target}/mentions", {"max_results": 5}) for t in p.get("data", [])
    ]
    assert sorted(served) == sorted(mentions[mentions.target_account_id == target].post_id)


def test_errors_are_x_problems(world, base, http):
    missing = http.get(f"{base}/2/users/by/username/nobody_here")
    assert missing.status_code == 200 and missing.json() == fixture("not_found")
    gone = http.get(f"{base}/2/tweets/1234/liking_users").json()
    assert gone["errors"][0]["type"] == fixture("not_found")["errors"][0]["type"]
    author = x_posts(world).account_id.iloc[0]
    for url, params in (
        (f"{base}/2/users/{author}/tweets", {"max_results": 3}),
        (f"{base}/2/tweets/{busiest(world, 'reply')}/quote_tweets", {"max_results": 5}),
        (f"{base}/2/tweets/search/recent", {"query": "conversation_id:1", "max_results": 101}),
        (f"{base}/2/users/{author}/tweets", {"tweet.fields": "no_such_field"}),
        (f"{base}/2/users/{author}/tweets", {"pagination_token": "not-a-token"}),
        (f"{base}/2/users/abc/tweets", {}),
    ):
        resp = http.get(url, params=params)
        assert resp.status_code == 400, (url, params, resp.text)
        body = resp.json()
        assert set(body) == set(fixture("invalid_request")) and body["type"].endswith("/invalid-request")
        assert set(body["errors"][0]) == {"parameters", "message"} and body["errors"][0]["parameters"]
    assert http.get(f"{base}/2/users/{author}/tweets", params={"max_results": 3}).json() == fixture("invalid_request")


def test_rate_limit_headers_and_429(world):
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=2, window_s=30)) as server:
        import requests

        url = f"{server.base_url}/2/users/by/username/nobody_here"
        first = requests.get(url)
        headers = {k.lower(): v for k, v in first.headers.items()}
        assert headers["x-rate-limit-limit"] == "2" and headers["x-rate-limit-remaining"] == "1"
        assert re.match(r"^\d{10}$", headers["x-rate-limit-reset"])
        requests.get(url)
        refused = requests.get(url)
        assert refused.status_code == 429 and refused.headers["x-rate-limit-remaining"] == "0"
        assert refused.json() == fixture("too_many_requests")


def test_handles_fit_x_usernames(world):
    handles = world.accounts[world.accounts.network == "x"].handle
    assert handles.str.fullmatch(r"[a-z0-9_]{1,15}").all() and handles.is_unique
