"""LinkedIn Community Management API client against documented-shape fixtures
(tests/fixtures/linkedin): version headers, URN encoding, start/count paging, socialMetadata
batch gets, reactions and comments, mentions in little text, and the day limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from connector_helpers import http
from responses import matchers

from connectors import make_client
from connectors.http import HttpStatusError, RateBudgetError
from connectors.ingest import AccountSnapshot, Post
from connectors.linkedin import SPEC, VERSION, AccountNotFound, LinkedInClient, day_limit_signal, is_day_limit
from connectors.ratelimit import RateBudget

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
LI = "https://li.test"
API = f"{LI}/rest"
ORG = "urn:li:organization:2414183"
POST = "urn:li:share:7444556450921185370"
ENC_POST = "urn%3Ali%3Ashare%3A7444556450921185370"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def query(**params) -> list:
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()}, strict_match=False)]


def client(clock, **options) -> LinkedInClient:
    return LinkedInClient(http("linkedin", LI, clock, retries=1, **options))


def org_snapshot() -> AccountSnapshot:
    return AccountSnapshot(ORG, "fixture-labs", fixture("organizations.vanityName")["elements"][0])


def test_an_organization_resolves_by_vanity_name_with_its_follower_count_and_the_headers(rsps, clock):
    rsps.get(f"{API}/organizations", json=fixture("organizations.vanityName"), match=query(q="vanityName"))
    rsps.get(
        f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183",
        json=fixture("networkSizes"),
        match=query(edgeType="COMPANY_FOLLOWED_BY_MEMBER"),
    )
    account = client(clock, token="t0k").resolve_account("fixture-labs")
    assert (account.account_id, account.handle) == (ORG, "fixture-labs")
    assert account.payload["networkSize"]["firstDegreeSize"] == 1893
    for call in rsps.calls:  # LinkedIn refuses a request without these
        headers = call.request.headers
        assert headers["LinkedIn-Version"] == VERSION and headers["X-Restli-Protocol-Version"] == "2.0.0"
        assert headers["Authorization"] == "Bearer t0k"


def test_a_member_resolves_by_urn_through_people_by_id(rsps, clock):
    rsps.get(f"{API}/people/(id:fz4gLtBTn9)", json=fixture("people"))
    account = client(clock).resolve_account("urn:li:person:fz4gLtBTn9")
    assert account.account_id == account.handle == "urn:li:person:fz4gLtBTn9"
    assert account.payload["localizedFirstName"] == "Ada" and "networkSize" not in account.payload
    assert len(rsps.calls) == 1  # no organization lookup for a member


def test_an_unknown_vanity_name_is_a_404_the_privacy_gate_understands(rsps, clock):
    rsps.get(f"{API}/organizations", json={"elements": [], "paging": {"start": 0, "count": 10, "total": 0}})
    with pytest.raises(AccountNotFound) as caught:
        client(clock).resolve_account("nobody-here")
    assert caught.value.status == 404 and caught.value.endpoint == "/rest/organizations"


def test_posts_page_by_start_and_count_with_one_social_metadata_batch_per_page(rsps, clock):
    rsps.get(f"{API}/posts", json=fixture("posts.byAuthor.page2"), match=query(start=2))
    rsps.get(
        f"{API}/posts",
        json=fixture("posts.byAuthor.page1"),
        match=query(q="author", author=ORG, sortBy="CREATED", start=0, count=100),
    )
    rsps.get(f"{API}/socialMetadata", json=fixture("socialMetadata.batch"), match=query(ids=f"List({POST})"))
    rsps.get(
        f"{API}/socialMetadata",
        json={"results": {}, "statuses": {}, "errors": {}},
        match=query(ids="List(urn:li:ugcPost:7444300000000000016)"),
    )
    posts = list(client(clock).recent_posts(org_snapshot()))
    assert [p.post_id for p in posts] == [POST, "urn:li:ugcPost:7444300000000000016"]  # the draft is no post
    first = posts[0]
    assert first.reaction_counts == {"reaction": 3, "comment": 2}
    assert first.created_at == datetime(2026, 3, 31, 10, tzinfo=UTC)
    assert first.mentioned_account_ids == ("urn:li:person:fz4gLtBTn9",)  # its own organization is no mention
    assert posts[1].reaction_counts == {"reaction": 0, "comment": 0}
    batch = next(c for c in rsps.calls if "socialMetadata" in c.request.url)
    assert "ids=List(urn%3Ali%3Ashare%3A7444556450921185370)" in batch.request.url  # Rest.li 2.0 encoding
    assert "author=urn%3Ali%3Aorganization%3A2414183" in rsps.calls[0].request.url


def test_reactions_of_every_type_and_comments_name_actor_and_time(rsps, clock):
    rsps.get(
        f"{API}/reactions/(entity:{ENC_POST})",
        json=fixture("reactions.byEntity"),
        match=query(q="entity", start=0, count=100),
    )
    rsps.get(f"{API}/socialActions/{ENC_POST}/comments", json=fixture("comments"), match=query(start=0))
    post = Post(POST, ORG, datetime(2026, 3, 31, 10, tzinfo=UTC), {}, {"reaction": 3, "comment": 2})
    linkedin = client(clock)
    reactions = [
        (r.reactor_account_id, r.reacted_at, r.payload["reactionType"]) for r in linkedin.reactions(post, "reaction")
    ]
    # the organization's own reaction is no reaction
    assert reactions == [
        ("urn:li:person:vvfLbycYdl", datetime.fromtimestamp(1774979550.857, UTC), "PRAISE"),
        ("urn:li:person:fz4gLtBTn9", datetime.fromtimestamp(1774955000, UTC), "LIKE"),
    ]
    comments = [(r.reactor_account_id, r.reacted_at.hour) for r in linkedin.reactions(post, "comment")]
    assert comments == [("urn:li:person:fz4gLtBTn9", 13), ("urn:li:person:Q2xhcmFIbw", 14)]
    calls = len(rsps.calls)
    assert list(linkedin.reactions(post, "reshare")) == [] and len(rsps.calls) == calls


def test_a_throttle_429_is_retried_with_backoff(rsps, clock):
    rsps.get(f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183", status=429, json=fixture("error.throttled"))
    rsps.get(f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183", json=fixture("networkSizes"))
    assert client(clock).follower_count(ORG) == {"firstDegreeSize": 1893}
    assert len(rsps.calls) == 2 and clock.sleeps  # backed off before the retry


def test_a_day_limit_429_is_final_and_spends_the_day_until_midnight_utc(rsps, clock):
    budget = RateBudget(daily_units=SPEC.daily_units, signals=day_limit_signal, clock=clock.time, sleep=clock.sleep)
    linkedin = client(clock, budget=budget)
    rsps.get(f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183", status=429, json=fixture("error.dayLimit"))
    with pytest.raises(HttpStatusError) as caught:
        linkedin.follower_count(ORG)
    assert caught.value.status == 429 and is_day_limit(caught.value.body) and len(rsps.calls) == 1
    with pytest.raises(RateBudgetError, match="rate budget spent"):  # fails fast: nothing is sent
        linkedin.person("urn:li:person:fz4gLtBTn9")
    assert len(rsps.calls) == 1


def test_the_day_limit_signal_resets_at_midnight_utc():
    now = datetime(2026, 3, 30, 23, 30, tzinfo=UTC).timestamp()
    signal = day_limit_signal({}, fixture("error.dayLimit"), now)
    assert signal.remaining == 0 and signal.reset_at == datetime(2026, 3, 31, tzinfo=UTC).timestamp()
    assert day_limit_signal({}, fixture("error.throttled"), now) is None
    assert day_limit_signal({}, fixture("error.versionMissing"), now) is None


def test_daily_units_are_spent_proactively_in_utc_days(rsps, clock):
    budget = RateBudget(daily_units=2, quota_timezone="UTC", max_wait=None, clock=clock.time, sleep=clock.sleep)
    linkedin = client(clock, budget=budget)
    rsps.get(f"{API}/networkSizes/urn%3Ali%3Aorganization%3A2414183", json=fixture("networkSizes"))
    for _ in range(3):
        linkedin.follower_count(ORG)
    waited_until = datetime.fromtimestamp(clock.now, UTC)
    assert len(clock.sleeps) == 1 and (waited_until.hour, waited_until.minute) == (0, 0)


def test_make_client_reads_linkedin_token_keeps_it_out_of_errors_and_budgets_the_utc_day(rsps, monkeypatch):
    monkeypatch.setenv("LINKEDIN_TOKEN", "AQX-secret-token")
    linkedin = make_client("linkedin", LI, retries=0)
    assert linkedin.http.budget.daily_units == 100_000 and str(linkedin.http.budget.quota_zone) == "UTC"
    rsps.get(f"{API}/people/(id:gone)", status=404, json=fixture("error.notFound"))
    with pytest.raises(HttpStatusError) as caught:
        linkedin.person("urn:li:person:gone")
    assert caught.value.status == 404 and caught.value.body["code"] == "RESOURCE_NOT_FOUND"
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer AQX-secret-token"
    assert "AQX-secret-token" not in str(caught.value)
    assert SPEC.credentials_required


def test_accounts_named_finds_urns_whole_and_in_commentary():
    post = fixture("posts.byAuthor.page1")["elements"][0]
    assert set(LinkedInClient(None).accounts_named(post)) == {ORG, "urn:li:person:fz4gLtBTn9"}
    comment = fixture("comments")["elements"][1]
    assert set(LinkedInClient(None).accounts_named(comment)) == {"urn:li:person:Q2xhcmFIbw"}
