"""The X API v2 client against recorded-style bodies (tests/fixtures/x): paging by next_token,
the x-rate-limit-* signal and 429, X's error bodies, and the ingest vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from connector_helpers import FakeClock, http
from responses import matchers

from connectors.http import HttpStatusError
from connectors.ingest import AccountSnapshot
from connectors.ratelimit import RateBudget
from connectors.x import SPEC, XClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
BASE = "https://api.x.test"
TOKEN = "x-s3cr3t-bearer"
USER_ID = "2244994945"
POST_ID = "1900000000000000003"


def body(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def rate(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset)),
    }


def client(clock: FakeClock, **options) -> XClient:
    return XClient(http("x", BASE, clock, token=TOKEN, **options))


def account() -> AccountSnapshot:
    user = body("user")["data"]
    return AccountSnapshot(user["id"], user["username"], user)


def test_resolve_account_asks_for_the_user_fields(rsps, clock):
    rsps.get(
        f"{BASE}/2/users/by/username/SampleDev",
        json=body("user"),
        match=[
            matchers.query_param_matcher({"user.fields": "created_at,description,protected,public_metrics,verified"})
        ],
    )
    snapshot = client(clock).resolve_account("@SampleDev")
    assert (snapshot.account_id, snapshot.handle) == (USER_ID, "SampleDev")
    assert snapshot.payload["public_metrics"]["tweet_count"] == 3635
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_timeline_pages_by_next_token_and_keeps_own_posts(rsps, clock):
    first = rsps.get(f"{BASE}/2/users/{USER_ID}/tweets", json=body("tweets_page1"))
    token = body("tweets_page1")["meta"]["next_token"]
    second = rsps.get(
        f"{BASE}/2/users/{USER_ID}/tweets",
        json=body("tweets_page2"),
        match=[matchers.query_param_matcher({"pagination_token": token}, strict_match=False)],
    )
    x = client(clock)
    posts = list(x.recent_posts(account()))
    assert [p.post_id for p in posts] == ["1900000000000000003", "1900000000000000001"]  # the retweet is left out
    params = [c.request.params for c in rsps.calls]
    assert params[0]["max_results"] == "100" and params[0]["exclude"] == "retweets"
    assert "pagination_token" not in params[0] and params[1]["pagination_token"] == token
    assert "public_metrics" in params[0]["tweet.fields"] and "entities.mentions.username" in params[0]["expansions"]
    assert first.call_count == 1 and second.call_count == 1
    newest, older = posts
    assert newest.reaction_counts == {"like": 3, "retweet": 2, "reply": 1, "quote": 1, "impression": 250, "bookmark": 1}
    assert older.reaction_counts["retweet"] == 4  # the later spec's repost_count
    assert newest.mentioned_account_ids == ("77",) and older.replied_to_account_id == "88"
    assert x.account_is_private("77")  # learned from includes.users, no call
    assert len(rsps.calls) == 2


def test_likes_have_no_time_and_carry_the_protected_flag(rsps, clock):
    rsps.get(f"{BASE}/2/tweets/{POST_ID}/liking_users", json=body("liking_users"))
    last = {"data": [{"id": "105", "name": "Five", "username": "five"}], "meta": {"result_count": 1}}
    rsps.get(
        f"{BASE}/2/tweets/{POST_ID}/liking_users",
        json=last,
        match=[
            matchers.query_param_matcher(
                {"pagination_token": body("liking_users")["meta"]["next_token"]}, strict_match=False
            )
        ],
    )
    x = client(clock)
    post = next(iter(_posts_from(body("tweets_page1"))))
    likes = list(x.reactions(post, "like"))
    assert [(r.reactor_account_id, r.reacted_at, r.reactor_is_private) for r in likes] == [
        ("101", None, False),
        ("102", None, True),
        ("105", None, False),
    ]


def test_replies_come_from_the_conversation_search_and_only_direct_ones(rsps, clock):
    rsps.get(
        f"{BASE}/2/tweets/search/recent",
        json=body("search_conversation"),
        match=[matchers.query_param_matcher({"query": f"conversation_id:{POST_ID}"}, strict_match=False)],
    )
    post = next(iter(_posts_from(body("tweets_page1"))))
    replies = list(client(clock).reactions(post, "reply"))
    assert [r.reactor_account_id for r in replies] == ["101"]  # not the post itself, not a reply to a reply
    assert replies[0].reacted_at.isoformat() == "2026-03-30T20:00:00+00:00"
    assert replies[0].payload["includes"]["users"][0]["username"] == "liker_one"


def test_quotes_are_timed_and_flag_protected_authors(rsps, clock):
    rsps.get(f"{BASE}/2/tweets/{POST_ID}/quote_tweets", json=body("quote_tweets"))
    post = next(iter(_posts_from(body("tweets_page1"))))
    (quote,) = client(clock).reactions(post, "quote")
    assert quote.reactor_account_id == "104" and quote.reactor_is_private
    assert quote.reacted_at.isoformat() == "2026-03-31T07:00:00+00:00"
    assert list(client(clock).reactions(post, "impression")) == []  # anonymous: never asked for
    assert len(rsps.calls) == 1


def test_a_200_holding_only_errors_is_a_not_found_naming_endpoint_and_account(rsps, clock):
    rsps.get(f"{BASE}/2/users/by/username/nobody_here", json=body("not_found"))
    with pytest.raises(HttpStatusError) as caught:
        client(clock).resolve_account("nobody_here")
    error = caught.value
    assert (error.network, error.endpoint, error.account, error.status) == (
        "x",
        "/2/users/by/username/:username",
        "nobody_here",
        404,
    )
    assert "resource-not-found" in str(error) and TOKEN not in str(error)


def test_invalid_request_is_not_retried_and_keeps_the_problem(rsps, clock):
    rsps.get(f"{BASE}/2/users/{USER_ID}/tweets", json=body("invalid_request"), status=400)
    with pytest.raises(HttpStatusError) as caught:
        list(client(clock).tweets(USER_ID))
    assert caught.value.status == 400 and "max_results" in str(caught.value)
    assert len(rsps.calls) == 1


def test_unreadable_accounts_count_as_private(rsps, clock):
    rsps.get(f"{BASE}/2/users/55", json={"data": {"id": "55", "name": "n", "username": "n", "protected": False}})
    missing = body("not_found")
    missing["errors"][0].update(parameter="id", value="66")
    rsps.get(f"{BASE}/2/users/66", json=missing)
    x = client(clock)
    assert not x.account_is_private("55") and x.account_is_private("66")
    assert not x.account_is_private("55")  # asked once
    assert len(rsps.calls) == 2


def test_429_is_retried_and_the_rate_headers_pace_the_next_call(clock):
    budget = RateBudget(clock=clock.time, sleep=clock.sleep)
    x = client(clock, budget=budget, backoff_factor=0.0)
    reset = clock.now + 600
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{BASE}/2/users/by/username/SampleDev",
            json=body("too_many_requests"),
            status=429,
            headers={**rate(300, 0, clock.now + 1), "retry-after": "1"},
        )
        rsps.get(f"{BASE}/2/users/by/username/SampleDev", json=body("user"), headers=rate(300, 1, reset))
        assert x.resolve_account("SampleDev").account_id == USER_ID
        assert len(rsps.calls) == 2
        # one request left but a safety margin of one: the next call waits for the window's reset
        rsps.get(f"{BASE}/2/users/{USER_ID}", json=body("user"), headers=rate(300, 299, reset + 900))
        before = clock.now
        x.user(USER_ID)
        assert clock.now - before >= reset - before


def test_accounts_named_finds_users_mentions_authors_and_reply_targets():
    x = XClient.__new__(XClient)
    page = body("tweets_page1")
    named = set(x.accounts_named(page))
    assert {"77", USER_ID} <= named
    assert set(x.accounts_named(body("tweets_page2")["data"][0])) == {USER_ID, "88"}
    assert "1900000000000000003" not in named  # post ids are not accounts


def test_spec_reads_nested_counts_and_names_the_landed_words():
    assert SPEC.reaction_types == ("like", "retweet", "reply", "quote")
    assert SPEC.account_counts["followers_count"] == "$.public_metrics.followers_count"
    assert SPEC.env_prefix == "X" and SPEC.default_base_url == "https://api.x.com"


def _posts_from(page: dict):
    x = XClient.__new__(XClient)
    x._protected = {}
    user = body("user")["data"]

    class _One:
        def tweets(self, user_id):
            return iter(page["data"])

    x.tweets = _One().tweets
    return x.recent_posts(AccountSnapshot(user["id"], user["username"], user))


@pytest.fixture
def clock():
    return FakeClock()
