"""Foursquare v2 client against our fixtures (tests/fixtures/foursquare, shaped after the v2
documentation): each person read with their own token, check-ins and tips newest first, likes
(no time) and comments, a handle without a token skipped (not failed), invalid_auth, the 403
rate_limit_exceeded throttle, and tokens kept out of errors and logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from connector_helpers import http
from responses import matchers

from connectors.foursquare import API_VERSION, SPEC, FoursquareClient, tokens_from_env
from connectors.http import HttpStatusError, NotConnected
from connectors.ingest import collect_day

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "foursquare"
FSQ = "https://fsq.test"
API = f"{FSQ}/v2"
TOKENS = {"adalovelace": "ADA-TOKEN-0123456789abcdef", "gracehopper": "GRACE-TOKEN-fedcba9876543210"}
OWNER, FRIEND, OTHER = "48213377", "51002234", "60331122"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def query(**params) -> list:
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()}, strict_match=False)]


def client(clock, tokens=TOKENS, **options) -> FoursquareClient:
    return FoursquareClient(http("foursquare", FSQ, clock, retries=1, backoff_factor=0.5, **options), tokens=tokens)


def mock_owner(rsps, token=TOKENS["adalovelace"]):
    """Ada's account, check-ins (two pages by offset) and tips, all with her own token."""
    rsps.get(f"{API}/users/self", json=fixture("users.self"), match=query(v=API_VERSION, oauth_token=token))
    rsps.get(
        f"{API}/users/self/checkins",
        json=fixture("users.self.checkins.page1"),
        match=query(offset=0, limit=250, sort="newestfirst", oauth_token=token, v=API_VERSION),
    )
    rsps.get(
        f"{API}/users/self/checkins",
        json=fixture("users.self.checkins.page2"),
        match=query(offset=2, limit=250, oauth_token=token),
    )
    rsps.get(f"{API}/lists/self/tips", json=fixture("lists.self.tips"), match=query(offset=0, oauth_token=token))


def mock_reactions(rsps):
    checkin = "6553f0a0aa11bb22cc33dd44"
    rsps.get(f"{API}/checkins/{checkin}/likes", json=fixture("checkins.likes"), match=query(v=API_VERSION))
    rsps.get(f"{API}/checkins/{checkin}", json=fixture("checkins.detail"), match=query(v=API_VERSION))
    rsps.get(f"{API}/checkins/65515020aa11bb22cc33dd46/likes", json=fixture("tips.likes"))
    rsps.get(f"{API}/tips/6553c0ffee11bb22cc33dd47/likes", json=fixture("tips.likes"))


def test_resolves_the_owner_with_their_own_token_and_lands_no_contact_details(rsps, clock):
    mock_owner(rsps)
    account = client(clock).resolve_account("adalovelace")
    assert (account.account_id, account.handle) == (OWNER, "adalovelace")
    assert account.payload["friends"] == {"count": 212} and account.payload["checkins"] == {"count": 1843}
    text = json.dumps(account.payload)
    assert "contact" not in account.payload and "ada@example.invalid" not in text
    assert FRIEND not in text  # the friends list names people: only its count is kept


def test_checkins_and_tips_come_as_one_stream_newest_first(rsps, clock):
    mock_owner(rsps)
    fsq = client(clock)
    posts = list(fsq.recent_posts(fsq.resolve_account("adalovelace")))
    assert [p.post_id for p in posts] == [
        "6553f0a0aa11bb22cc33dd44",  # check-in 1700000000
        "6553c0ffee11bb22cc33dd47",  # tip 1699990000
        "6552a0a0aa11bb22cc33dd45",
        "65515020aa11bb22cc33dd46",  # from the second page (offset=2)
    ]
    first, tip = posts[0], posts[1]
    assert first.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert first.reaction_counts == {"like": 2, "comment": 2} and first.mentioned_account_ids == (FRIEND,)
    assert tip.reaction_counts == {"like": 1, "todo": 4, "done": 9} and tip.payload["kind"] == "tip"


def test_likes_have_no_time_and_comments_do_and_the_owner_is_no_reactor(rsps, clock):
    mock_owner(rsps)
    mock_reactions(rsps)
    checkin = "6553f0a0aa11bb22cc33dd44"
    fsq = client(clock)
    posts = {p.post_id: p for p in fsq.recent_posts(fsq.resolve_account("adalovelace"))}
    likes = list(fsq.reactions(posts[checkin], "like"))
    assert [(r.reactor_account_id, r.reacted_at) for r in likes] == [(FRIEND, None), (OTHER, None)]
    comments = list(fsq.reactions(posts[checkin], "comment"))
    assert [(r.reactor_account_id, r.reacted_at.hour) for r in comments] == [(FRIEND, 23), (OTHER, 0)]
    assert OWNER not in {r.reactor_account_id for r in comments}  # the owner's own answer is no reaction
    tip_likes = list(fsq.reactions(posts["6553c0ffee11bb22cc33dd47"], "like"))
    assert [r.reactor_account_id for r in tip_likes] == [OTHER]
    assert list(fsq.reactions(posts["6553c0ffee11bb22cc33dd47"], "comment")) == []  # a tip has no comments


def test_each_person_is_read_with_their_own_token(rsps, clock):
    grace_user = {**fixture("users.self")}
    grace_user["response"] = {"user": {"id": FRIEND, "firstName": "Grace", "handle": "gracehopper"}}
    rsps.get(f"{API}/users/self", json=grace_user, match=query(oauth_token=TOKENS["gracehopper"]))
    mock_owner(rsps)
    fsq = client(clock)
    assert fsq.resolve_account("gracehopper").account_id == FRIEND
    assert fsq.resolve_account("adalovelace").account_id == OWNER
    sent = [c.request.params["oauth_token"] for c in rsps.calls]
    assert sent == [TOKENS["gracehopper"], TOKENS["adalovelace"]]


def test_a_linked_handle_without_a_token_is_skipped_with_one_line_not_failed(rsps, clock, caplog):
    mock_owner(rsps)
    mock_reactions(rsps)
    fsq = client(clock, tokens={"adalovelace": TOKENS["adalovelace"]})
    with pytest.raises(NotConnected):
        fsq.resolve_account("gracehopper")
    assert not any("users/self" in c.request.url and "GRACE" in c.request.url for c in rsps.calls)
    with caplog.at_level(logging.WARNING, logger="connectors.ingest"):
        batch = collect_day(fsq, ["adalovelace", "gracehopper"], date(2023, 11, 14), seen_reaction_keys=set())
    assert not batch.failures
    assert [a["handle"] for a in batch.accounts] == ["adalovelace"] and len(batch.posts) == 2  # on 2023-11-14
    assert {r["reaction_type"] for r in batch.reactions} == {"like", "comment", "mention"}
    assert {(c["reaction_type"], c["total"]) for c in batch.counts} == {("todo", 4), ("done", 9)}
    lines = [r.getMessage() for r in caplog.records if "gracehopper" in r.getMessage()]
    assert len(lines) == 1 and "not connected" in lines[0] and "FOURSQUARE_TOKENS" in lines[0]


def test_a_revoked_token_is_not_connected_either(rsps, clock):
    rsps.get(f"{API}/users/self", json=fixture("error.invalid_auth"), status=401)
    with pytest.raises(NotConnected) as caught:
        client(clock).resolve_account("adalovelace")
    assert "revoked" in str(caught.value) and TOKENS["adalovelace"] not in str(caught.value)


def test_a_missing_version_is_a_param_error_that_fails_the_account(rsps, clock):
    rsps.get(f"{API}/users/self", json=fixture("error.param_error"), status=400)
    with pytest.raises(HttpStatusError) as caught:
        client(clock).resolve_account("adalovelace")
    assert caught.value.status == 400 and not isinstance(caught.value, NotConnected)


def test_rate_limit_exceeded_is_waited_out_and_the_headers_are_learned(rsps, clock):
    reset = int(clock.now) + 30
    rsps.get(
        f"{API}/users/self",
        json=fixture("error.rate_limit_exceeded"),
        status=403,
        headers={"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    rsps.get(
        f"{API}/users/self",
        json=fixture("users.self"),
        headers={"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "499", "X-RateLimit-Reset": str(reset + 3600)},
    )
    fsq = client(clock)
    assert fsq.resolve_account("adalovelace").account_id == OWNER
    assert clock.now >= reset  # the spent window was waited out before the retry
    assert fsq.http.budget._remaining == 499


def test_tokens_stay_out_of_errors_and_logs(rsps, clock, caplog):
    rsps.get(f"{API}/users/self", body="upstream exploded " + TOKENS["adalovelace"], status=500)
    with caplog.at_level(logging.DEBUG), pytest.raises(HttpStatusError) as caught:
        client(clock).resolve_account("adalovelace")
    for secret in TOKENS.values():
        assert secret not in str(caught.value) and secret not in caplog.text


def test_the_token_store_comes_from_FOURSQUARE_TOKENS():
    assert tokens_from_env({"FOURSQUARE_TOKENS": json.dumps({"AdaLovelace": "t1"})}) == {"adalovelace": "t1"}
    assert tokens_from_env({}) == {}
    with pytest.raises(ValueError) as caught:
        tokens_from_env({"FOURSQUARE_TOKENS": "not-json secret-value"})
    assert "secret-value" not in str(caught.value)


def test_without_person_tokens_the_live_network_is_skipped_with_one_clear_line(monkeypatch):
    from orchestration.resources import SocialNetworks

    for name in ("FOURSQUARE_TOKENS", "FOURSQUARE_TOKEN", "FOURSQUARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    live = SocialNetworks(mode="live")
    assert live.skip_reason("foursquare") == "skipped: no credentials (set FOURSQUARE_TOKENS: each person's own token)"
    connected = SocialNetworks(mode="live", person_tokens={"foursquare": json.dumps(TOKENS)})
    assert connected.skip_reason("foursquare") is None
    assert connected.client("foursquare")._tokens == {h.lower(): t for h, t in TOKENS.items()}


def test_the_dagster_resource_gets_the_token_store_as_an_EnvVar_never_its_value(monkeypatch):
    from dagster import EnvVar

    from orchestration.definitions import social_from_env

    monkeypatch.setenv("FOURSQUARE_TOKENS", json.dumps(TOKENS))
    assert social_from_env().person_tokens == {"foursquare": EnvVar("FOURSQUARE_TOKENS")}
    monkeypatch.delenv("FOURSQUARE_TOKENS")
    assert social_from_env().person_tokens == {}
    assert SPEC.person_tokens_env == "FOURSQUARE_TOKENS" and SPEC.credentials_required
