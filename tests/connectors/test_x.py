"""The X API v2 client against recorded-style bodies (tests/fixtures/x): paging by next_token,
the x-rate-limit-* signal and 429, X's error bodies, and the ingest vocabulary."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
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
POSTED = datetime(2026, 3, 30, 18, 36, 15, tzinfo=UTC).timestamp()  # POST_ID's created_at
DAY = 86_400.0


def body(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def rate(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset)),
    }


def client(clock: FakeClock, *, search: str | None = None, now: float | None = None, **options) -> XClient:
    """`now` (epoch seconds) is the clock search/recent's 7 days are measured by (default: the
    day after the fixtures' posts)."""
    x = XClient(http("x", BASE, clock, token=TOKEN, **options), search=search)
    x.now = lambda: POSTED + DAY if now is None else now
    return x


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
        match=[
            matchers.query_param_matcher(
                {"query": f"conversation_id:{POST_ID}", "start_time": "2026-03-30T18:36:15Z"}, strict_match=False
            )
        ],
    )
    post = next(iter(_posts_from(body("tweets_page1"))))
    replies = list(client(clock).reactions(post, "reply"))
    assert [r.reactor_account_id for r in replies] == ["101"]  # not the post itself, not a reply to a reply
    assert replies[0].reacted_at.isoformat() == "2026-03-30T20:00:00+00:00"
    assert replies[0].payload["includes"]["users"][0]["username"] == "liker_one"


def _search(rsps, kind: str, status: int = 200, payload: dict | None = None):
    return rsps.get(f"{BASE}/2/tweets/search/{kind}", json=payload or body("search_conversation"), status=status)


def test_auto_search_uses_recent_within_seven_days_and_the_archive_beyond(rsps, clock):
    recent, archive = _search(rsps, "recent"), _search(rsps, "all")
    post = next(iter(_posts_from(body("tweets_page1"))))
    assert len(list(client(clock, now=POSTED + 6 * DAY).reactions(post, "reply"))) == 1
    assert (recent.call_count, archive.call_count) == (1, 0)
    assert len(list(client(clock, now=POSTED + 8 * DAY).reactions(post, "reply"))) == 1
    assert (recent.call_count, archive.call_count) == (1, 1)
    sent = archive.calls[0].request.params
    assert sent["start_time"] == "2026-03-30T18:36:15Z" and sent["max_results"] == "500"
    # forced: the archive even for a recent post
    list(client(clock, search="all", now=POSTED + DAY).reactions(post, "reply"))
    assert (recent.call_count, archive.call_count) == (1, 2)


def test_auto_moves_to_the_archive_when_recent_refuses_the_start_time(rsps, clock):
    """The server's clock ahead of ours: recent refuses the post's time, the archive answers."""
    problem = body("invalid_request")
    problem["errors"] = [{"parameters": {"start_time": ["2026-03-30T18:36:15Z"]}, "message": "Invalid 'start_time'"}]
    recent, archive = _search(rsps, "recent", 400, problem), _search(rsps, "all")
    post = next(iter(_posts_from(body("tweets_page1"))))
    assert [r.reactor_account_id for r in client(clock).reactions(post, "reply")] == ["101"]
    assert (recent.call_count, archive.call_count) == (1, 1)
    with pytest.raises(HttpStatusError):  # recent forced: the refusal is the caller's to see
        list(client(clock, search="recent").reactions(post, "reply"))


def test_recent_only_searches_from_its_horizon_and_warns_once(rsps, clock, caplog):
    recent, archive = _search(rsps, "recent"), _search(rsps, "all")
    post = next(iter(_posts_from(body("tweets_page1"))))
    now = POSTED + 10 * DAY
    x = client(clock, search="recent", now=now)
    with caplog.at_level(logging.WARNING, logger="connectors.x"):
        list(x.reactions(post, "reply"))
        list(x.reactions(post, "reply"))
    assert archive.call_count == 0 and recent.call_count == 2
    horizon = datetime.fromtimestamp(now - 7 * DAY + 300, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert recent.calls[0].request.params["start_time"] == horizon
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "X_SEARCH=recent" in warnings[0].getMessage()


def test_search_mode_comes_from_x_search(monkeypatch, clock):
    monkeypatch.setenv("X_SEARCH", "all")
    assert XClient(http("x", BASE, clock)).search == "all"
    monkeypatch.delenv("X_SEARCH")
    assert XClient(http("x", BASE, clock)).search == "auto"
    with pytest.raises(ValueError, match="X_SEARCH"):
        XClient(http("x", BASE, clock), search="sometimes")


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
