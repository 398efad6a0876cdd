"""The Facebook Pages client against recorded-style Graph API answers (tests/fixtures/facebook)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from connector_helpers import http
from responses import matchers

import connectors
from connectors.facebook import FacebookClient, meta_rate_signal
from connectors.http import HttpStatusError, RateBudgetError
from connectors.ratelimit import RateBudget

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facebook"
GRAPH = "https://graph.test/v21.0"
PAGE = "204000000000001"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def client(clock, **options) -> FacebookClient:
    return FacebookClient(http("facebook", "https://graph.test", clock, **options))


def test_spec_and_defaults():
    spec = connectors.NETWORKS["facebook"]
    assert spec.default_base_url == "https://graph.facebook.com" and spec.env_prefix == "FACEBOOK"
    assert spec.reaction_types == ("reaction", "comment")
    assert spec.rate_signals is meta_rate_signal


def test_page_posts_follow_the_after_cursor_until_next_is_absent(rsps, clock):
    rsps.get(f"{GRAPH}/sandboxbakery", json=fixture("page.json"))
    first = rsps.get(f"{GRAPH}/{PAGE}/posts", json=fixture("posts.page1.json"), match=[_no("after")])
    second = rsps.get(
        f"{GRAPH}/{PAGE}/posts",
        json=fixture("posts.page2.json"),
        match=[matchers.query_param_matcher({"after": "QVFIUnBhZ2Ux"}, strict_match=False)],
    )
    fb = client(clock)
    account = fb.resolve_account("sandboxbakery")
    assert (account.account_id, account.handle) == (PAGE, "sandboxbakery")
    posts = list(fb.recent_posts(account))
    assert [p.post_id for p in posts] == [f"{PAGE}_9002", f"{PAGE}_9001"]
    assert first.call_count == second.call_count == 1  # the last page has no `next`: no third call
    newest = posts[0]
    assert newest.reaction_counts == {"reaction": 2, "comment": 1, "share": 3}
    assert newest.mentioned_account_ids == ("204000000000777",)
    assert newest.created_at.isoformat() == "2026-03-30T09:15:00+00:00"
    assert set(fb.accounts_named(newest.payload)) == {PAGE, "204000000000777"}


def test_reactions_keep_the_native_type_comments_carry_time_shares_name_nobody(rsps, clock):
    post_id = f"{PAGE}_9002"
    rsps.get(f"{GRAPH}/{post_id}/reactions", json=fixture("reactions.json"))
    rsps.get(
        f"{GRAPH}/{post_id}/comments",
        json=fixture("comments.json"),
        match=[matchers.query_param_matcher({"filter": "toplevel", "order": "chronological"}, strict_match=False)],
    )
    fb = client(clock)
    post = next(iter(_posts(rsps, fb)))
    reactions = list(fb.reactions(post, "reaction"))
    assert [(r.reactor_account_id, r.reacted_at, r.payload["type"]) for r in reactions] == [
        ("204000000000555", None, "LOVE"),
        ("204000000000556", None, "LIKE"),
    ]
    (comment,) = fb.reactions(post, "comment")
    assert comment.reactor_account_id == "204000000000556" and comment.reacted_at.isoformat().startswith("2026-03-30")
    calls = len(rsps.calls)
    assert list(fb.reactions(post, "share")) == [] and len(rsps.calls) == calls  # no endpoint lists sharers


def _posts(rsps, fb):
    rsps.get(f"{GRAPH}/{PAGE}/posts", json=fixture("posts.page2.json") | {"data": fixture("posts.page1.json")["data"]})
    rsps.get(f"{GRAPH}/{PAGE}", json=fixture("page.json"))
    return fb.recent_posts(fb.resolve_account(PAGE))


def test_usage_headers_become_a_rate_signal():
    headers = fixture("headers.json")
    signal = meta_rate_signal({"x-app-usage": headers["x-app-usage"]}, {}, 100.0)
    assert (signal.remaining, signal.limit, signal.backoff_seconds) == (82, 95, 0)
    near = meta_rate_signal(
        {"x-app-usage": headers["x-app-usage"], "x-business-use-case-usage": headers["x-business-use-case-usage"]},
        {},
        100.0,
    )
    assert near.remaining == 0 and near.reset_at > 100.0  # 97 % used: past the ceiling, wait for a new reading
    throttled = meta_rate_signal({"x-business-use-case-usage": headers["x-business-use-case-usage-throttled"]}, {}, 0)
    assert throttled.backoff_seconds == 7 * 60
    assert meta_rate_signal({"content-type": "application/json"}, {}, 0) is None


def test_budget_waits_near_full_usage_and_for_the_regain_time(rsps, clock):
    headers = fixture("headers.json")
    busy = {"X-Business-Use-Case-Usage": headers["x-business-use-case-usage"]}
    rsps.get(f"{GRAPH}/{PAGE}", json=fixture("page.json"), headers=busy)
    budget = RateBudget(signals=meta_rate_signal, clock=clock.time, sleep=clock.sleep)
    fb = client(clock, budget=budget)
    fb.page(PAGE)
    fb.page(PAGE)  # 97 % used: the budget waits for the reading to age before asking again
    assert clock.sleeps and sum(clock.sleeps) >= 1.0
    rsps.replace(
        "GET",
        f"{GRAPH}/{PAGE}",
        json=fixture("page.json"),
        headers={"X-Business-Use-Case-Usage": headers["x-business-use-case-usage-throttled"]},
    )
    fb.page(PAGE)
    before = sum(clock.sleeps)
    fb.page(PAGE)
    assert sum(clock.sleeps) - before >= 7 * 60  # estimated_time_to_regain_access: 7 minutes


def test_throttling_error_codes_are_retried(rsps, clock):
    rsps.get(f"{GRAPH}/{PAGE}", json=fixture("error.throttled.json"), status=400)
    rsps.get(f"{GRAPH}/{PAGE}", json=fixture("page.json"))
    assert client(clock).page(PAGE)["id"] == PAGE
    assert len(rsps.calls) == 2 and clock.sleeps


def test_other_errors_name_network_endpoint_and_account(rsps, clock):
    rsps.get(f"{GRAPH}/nobody", json=fixture("error.not_found.json"), status=400)
    with pytest.raises(HttpStatusError) as caught:
        client(clock).resolve_account("nobody")
    error = caught.value
    assert (error.network, error.endpoint, error.account, error.status) == ("facebook", "/v21.0/:id", "nobody", 400)
    assert len(rsps.calls) == 1 and '"code":100' in error.message.replace(" ", "")


def _no(name: str):
    def match(request):
        return (name not in request.params, f"{name} present")

    return match


def test_a_regain_time_past_the_budgets_limit_fails_the_call_instead_of_sleeping(rsps, clock):
    """Meta's throttled answer says access returns in 2 hours: waiting is bounded by the budget's
    max_wait (1 hour), so the call fails (the account is retried another day) without sleeping."""
    headers = fixture("headers.json")
    spent = headers["x-business-use-case-usage-throttled"].replace(
        '"estimated_time_to_regain_access":7', '"estimated_time_to_regain_access":120'
    )
    rsps.get(
        f"{GRAPH}/{PAGE}",
        json=fixture("error.throttled.json"),
        status=400,
        headers={"X-Business-Use-Case-Usage": spent},
    )
    budget = RateBudget(signals=meta_rate_signal, clock=clock.time, sleep=clock.sleep, max_wait=3600)
    with pytest.raises(RateBudgetError):
        client(clock, budget=budget).page(PAGE)
    assert len(rsps.calls) == 1 and sum(clock.sleeps) < 60
