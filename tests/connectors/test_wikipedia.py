"""The Wikipedia client against recorded-shape answers (tests/fixtures/wikipedia): the `continue`
protocol, maxlag waited out through the rate budget, API error bodies, the User-Agent, thanks,
later edits and page views."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from connector_helpers import http
from responses import matchers

from connectors.http import HttpStatusError
from connectors.ingest import collect_day
from connectors.ratelimit import RateBudget
from connectors.wikipedia import SPEC, MediaWikiApiError, WikipediaClient, maxlag_signal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wikipedia"
WIKI = "https://en.wikipedia.org"
API = f"{WIKI}/w/api.php"
METRICS = "https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article/en.wikipedia/all-access/user"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def client(clock, **options) -> WikipediaClient:
    budget = RateBudget(clock=clock.time, sleep=clock.sleep, signals=maxlag_signal)
    return WikipediaClient(http("wikipedia", WIKI, clock, budget=budget), environ={}, **options)


def sent(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def module(name: str):
    return matchers.query_param_matcher({"list": name}, strict_match=False)


def test_spec_and_user_agent_names_project_and_contact(rsps, clock):
    assert SPEC.reaction_types == ("thank", "reply") and SPEC.account_counts == {"posts_count": "editcount"}
    rsps.get(API, json=fixture("users_v2"))
    wiki = client(clock)
    wiki.users(["Example editor"])
    agent = rsps.calls[0].request.headers["User-Agent"]
    assert agent.startswith("open-klout/") and "https://" in agent
    custom = WikipediaClient(http("wikipedia", WIKI, clock), environ={"WIKIPEDIA_USER_AGENT": "bot/1 (ops@x.test)"})
    assert custom.http.session.headers["User-Agent"] == "bot/1 (ops@x.test)"
    assert custom.metrics.base_url == "https://wikimedia.org/api/rest_v1" and custom.project == "en.wikipedia"


def test_every_action_request_sends_maxlag_and_formatversion(rsps, clock):
    rsps.get(API, json=fixture("users_v2"))
    account = client(clock).resolve_account("Example editor")
    assert (account.account_id, account.handle, account.payload["editcount"]) == ("501", "Example editor", 1234)
    params = sent(rsps.calls[0])
    assert params["maxlag"] == "5" and params["formatversion"] == "2" and params["format"] == "json"
    assert params["usprop"] == "editcount|registration"


def test_a_missing_user_is_a_404(rsps, clock):
    rsps.get(API, json={"batchcomplete": True, "query": {"users": [{"name": "Nobody here", "missing": True}]}})
    with pytest.raises(HttpStatusError) as caught:
        client(clock).resolve_account("Nobody here")
    assert caught.value.status == 404 and caught.value.account == "Nobody here"


def test_continue_sends_back_every_key(rsps, clock):
    first = fixture("usercontribs")
    rsps.get(API, json=first)  # answered first (responses keeps the registration order)
    second = fixture("usercontribs_v2")
    rsps.get(
        API,
        json=second,
        match=[
            matchers.query_param_matcher(
                {"uccontinue": "20250301120000|900000002", "continue": "-||"}, strict_match=False
            )
        ],
    )
    items = list(client(clock).contributions("Example editor"))
    assert [i["revid"] for i in items] == [900000010, 900000002]
    assert sent(rsps.calls[1])["ucuser"] == "Example editor" and sent(rsps.calls[1])["continue"] == "-||"


def test_maxlag_is_waited_out_and_retried(rsps, clock):
    lag = fixture("error_maxlag")
    rsps.get(API, json=lag["body"], headers=lag["headers"])
    rsps.get(API, json=fixture("users_v2"))
    account = client(clock).resolve_account("Example editor")
    assert account.account_id == "501" and len(rsps.calls) == 2
    assert sum(clock.sleeps) >= 5  # Retry-After, through the rate budget, before the retry


def test_maxlag_without_retry_after_waits_the_lag():
    signal = maxlag_signal({"x-database-lag": "9"}, {"error": {"code": "maxlag", "lag": 9}}, 0.0)
    assert signal.backoff_seconds == 9.0
    assert maxlag_signal({}, {"query": {}}, 0.0) is None


def test_persistent_maxlag_fails_naming_network_endpoint_and_account(rsps, clock):
    lag = fixture("error_maxlag")
    rsps.get(API, json=lag["body"], headers=lag["headers"])
    with pytest.raises(MediaWikiApiError) as caught:
        client(clock, max_lag_retries=2).resolve_account("Example editor")
    err = caught.value
    assert (err.network, err.endpoint, err.account, err.code) == ("wikipedia", "list=users", "Example editor", "maxlag")
    assert len(rsps.calls) == 3


def test_an_api_error_body_is_not_retried(rsps, clock):
    body = {"error": {"code": "baduser_ucuser", "info": "Invalid value for user parameter ucuser."}, "servedby": "mw1"}
    rsps.get(API, json=body)
    with pytest.raises(MediaWikiApiError, match="baduser_ucuser") as caught:
        list(client(clock).contributions("<bad>"))
    assert caught.value.endpoint == "list=usercontribs" and len(rsps.calls) == 1


def test_pageviews_sum_and_404_is_zero(rsps, clock):
    rsps.get(f"{METRICS}/Example_page/daily/20250302/20250303", json=fixture("pageviews"))
    rsps.get(f"{METRICS}/Nope/daily/20250302/20250303", json=fixture("pageviews_not_found"), status=404)
    wiki = client(clock)
    start, end = datetime(2025, 3, 2), datetime(2025, 3, 3)
    assert wiki.pageviews("Example page", start, end) == 42
    assert wiki.pageviews("Nope", start, end) == 0


def test_a_day_lands_thanks_later_edits_and_mentions_but_not_views(rsps, clock):
    rsps.get(
        API,
        json=fixture("users_v2"),
        match=[matchers.query_param_matcher({"list": "users", "ususers": "Example editor"}, strict_match=False)],
    )
    contribs = fixture("usercontribs")
    contribs.pop("continue")
    # formatversion=2 flags; somebody edited the page since (not `top`)
    contribs["query"]["usercontribs"][0].update({"new": True, "minor": False, "top": False})
    rsps.get(API, json=contribs, match=[module("usercontribs")])
    thanks = fixture("logevents_thanks")
    thanks.pop("continue")
    rsps.get(API, json=thanks, match=[module("logevents")])
    rsps.get(
        API,
        json=fixture("revisions_v2"),
        match=[matchers.query_param_matcher({"prop": "revisions"}, strict_match=False)],
    )
    rsps.get(
        API,
        json={"batchcomplete": True, "query": {"users": [{"userid": 502, "name": "Helper one"}]}},
        match=[matchers.query_param_matcher({"list": "users", "ususers": "Helper one"}, strict_match=False)],
    )
    rsps.get(f"{METRICS}/Example_page/daily/20250302/{datetime.now(UTC):%Y%m%d}", json=fixture("pageviews"))
    batch = collect_day(client(clock), ["Example editor"], date(2025, 3, 2), seen_reaction_keys=set())
    assert not batch.failures
    assert [p["post_id"] for p in batch.posts] == ["900000010"]
    got = sorted((r["reaction_type"], r["reactor_account_id"], r["target_account_id"]) for r in batch.reactions)
    # the thank is given after the edit and before the next one: it is this edit's (the log does not say)
    assert got == [("mention", "501", "502"), ("reply", "503", "501"), ("thank", "502", "501")]
    assert json.loads(batch.posts[0]["payload"])["mentions"] == [{"userid": "502", "user": "Helper one"}]
