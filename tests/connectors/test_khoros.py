"""Khoros Community API v2 client against fixtures shaped after the recorded LiQL envelopes
(tests/fixtures/khoros): several communities at once, ids namespaced by community host, CURSOR
paging, kudos and replies, the error envelope, retries on 429 only, and the privacy gate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from connector_helpers import http

from connectors import make_client
from connectors.http import ConnectorError
from connectors.ingest import AccountSnapshot, Post, collect_day
from connectors.khoros import SPEC, KhorosClient, KhorosError, parse_communities, quote
from connectors.privacy import PrivacyGate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "khoros"
ATLAS, BOREALIS = "atlas.community.example", "borealis.community.example"
ATLAS_URL, BOREALIS_URL = f"https://{ATLAS}", f"https://{BOREALIS}/forums/s"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def liql(request) -> str:
    return parse_qs(urlsplit(request.url).query)["q"][0]


def client(clock, base: str = f"{ATLAS_URL},{BOREALIS_URL}", **options) -> KhorosClient:
    return KhorosClient(http("khoros", base, clock, **{"retries": 2, **options}))


def answer(rsps, url: str, routes: dict[str, dict]):
    """Answer LiQL at `url/api/2.0/search` by the first route whose text the query contains."""

    def callback(request):
        q = liql(request)
        for needle, body in routes.items():
            if needle in q:
                return 200, {}, json.dumps(body)
        return 400, {}, json.dumps(fixture("error.invalidQuery"))

    rsps.add_callback("GET", f"{url}/api/2.0/search", callback=callback)


def test_the_setting_lists_communities_named_by_host_and_a_loopback_gateway():
    communities, gateway = parse_communities(f" {ATLAS_URL}/ , sap=https://community.sap.com, http://127.0.0.1:8099")
    assert communities == {ATLAS: ATLAS_URL, "sap": "https://community.sap.com"}
    assert gateway == "http://127.0.0.1:8099"
    assert SPEC.env_prefix == "KHOROS" and not SPEC.credentials_required
    assert SPEC.reaction_types == ("kudo", "reply") and SPEC.anonymous_counts == ("view",)


def test_the_same_login_in_two_communities_is_two_accounts(rsps, clock):
    answer(rsps, ATLAS_URL, {"FROM users": fixture("users.byLogin")})
    answer(rsps, BOREALIS_URL, {"FROM users": fixture("users.byLogin")})
    kh = client(clock, token="s3cr3t")
    one, two = kh.resolve_account(f"{ATLAS}/adalovelace"), kh.resolve_account(f"{BOREALIS}/AdaLovelace")
    assert (one.account_id, one.handle) == (f"{ATLAS}:4821", f"{ATLAS}/adalovelace")
    assert (two.account_id, two.handle) == (f"{BOREALIS}:4821", f"{BOREALIS}/adalovelace")
    assert one.payload["community"] == ATLAS and one.payload["messages"]["count"] == 312
    hosts = [urlsplit(c.request.url) for c in rsps.calls]
    assert [(h.netloc, h.path) for h in hosts] == [(ATLAS, "/api/2.0/search"), (BOREALIS, "/forums/s/api/2.0/search")]
    assert "WHERE login = 'AdaLovelace'" in liql(rsps.calls[1].request)
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer s3cr3t"


def test_handles_name_their_community_unless_only_one_is_configured(rsps, clock):
    answer(rsps, ATLAS_URL, {"FROM users": fixture("users.byLogin")})
    assert client(clock, ATLAS_URL).resolve_account("adalovelace").account_id == f"{ATLAS}:4821"
    with pytest.raises(ConnectorError, match="not in KHOROS_BASE_URL"):
        client(clock).resolve_account("community.sap.com/adalovelace")
    with pytest.raises(ConnectorError, match="<community host>/<login>"):
        client(clock).resolve_account("adalovelace")


def test_a_loopback_base_url_is_a_gateway_serving_every_community(rsps, clock):
    answer(rsps, f"http://127.0.0.1:8099/khoros/{BOREALIS}", {"FROM users": fixture("users.byLogin")})
    account = client(clock, "http://127.0.0.1:8099").resolve_account(f"{BOREALIS}/adalovelace")
    assert account.account_id == f"{BOREALIS}:4821"


def test_posts_page_with_a_cursor_appended_to_the_same_query(rsps, clock):
    answer(
        rsps,
        ATLAS_URL,
        {"CURSOR": fixture("messages.byAuthor.page2"), "FROM messages": fixture("messages.byAuthor.page1")},
    )
    snapshot = AccountSnapshot(f"{ATLAS}:4821", f"{ATLAS}/adalovelace", {})
    posts = list(client(clock).recent_posts(snapshot))
    first, second = (liql(c.request) for c in rsps.calls)
    assert first.startswith("SELECT ") and "WHERE author.login = 'adalovelace' ORDER BY post_time DESC" in first
    assert second == first + " CURSOR 'MjUuM3wyLjF8b3wyNXxfTlZffDE'"
    assert [p.post_id for p in posts] == [f"{ATLAS}:90211", f"{ATLAS}:90102"]
    top = posts[0]
    assert top.reaction_counts == {"kudo": 2, "reply": 1, "view": 57}
    assert top.mentioned_account_ids == (f"{ATLAS}:5150",)
    assert top.payload["author"]["id"] == f"{ATLAS}:4821" and top.payload["community"] == ATLAS


def test_kudos_and_replies_name_their_reactors_with_times(rsps, clock):
    answer(rsps, ATLAS_URL, {"FROM kudos": fixture("kudos.byMessage"), "parent.id": fixture("messages.byParent")})
    kh = client(clock)
    post = Post(f"{ATLAS}:90211", f"{ATLAS}:4821", datetime(2026, 3, 30, tzinfo=UTC), {}, {})
    kudos = list(kh.reactions(post, "kudo"))
    replies = list(kh.reactions(post, "reply"))
    assert [(k.reactor_account_id, k.reacted_at.isoformat()) for k in kudos] == [
        (f"{ATLAS}:5150", "2026-03-30T16:40:00+00:00"),
        (f"{ATLAS}:6001", "2026-03-30T15:02:09+00:00"),
    ]
    assert [(r.reactor_account_id, r.reacted_at.isoformat()) for r in replies] == [
        (f"{ATLAS}:6001", "2026-03-30T18:21:45.500000+00:00")
    ]
    assert "FROM kudos WHERE message.id = '90211'" in liql(rsps.calls[0].request)
    assert "FROM messages WHERE parent.id = '90211'" in liql(rsps.calls[1].request)
    assert list(kh.reactions(post, "view")) == []  # views name nobody


def test_the_error_envelope_is_an_error_with_khoros_code_and_not_retried(rsps, clock):
    rsps.get(f"{ATLAS_URL}/api/2.0/search", status=400, json=fixture("error.invalidQuery"))
    with pytest.raises(KhorosError) as caught:
        client(clock).search(ATLAS, "SELECT reply_count FROM messages WHERE id = '1'")
    assert caught.value.status == 400 and "601" in str(caught.value) and len(rsps.calls) == 1


def test_throttling_without_rate_headers_is_retried_with_backoff(rsps, clock):
    url = f"{ATLAS_URL}/api/2.0/search"
    throttled = {"status": "error", "message": "Too many requests", "data": {"type": "error_data", "code": 429}}
    rsps.get(url, status=429, json=throttled)
    rsps.get(url, json=fixture("users.byLogin"))
    assert client(clock, backoff_factor=0.5).resolve_account(f"{ATLAS}/adalovelace").account_id == f"{ATLAS}:4821"
    assert [c.response.status_code for c in rsps.calls] == [429, 200]


def test_a_200_that_is_not_a_success_envelope_is_malformed(rsps, clock):
    rsps.get(f"{ATLAS_URL}/api/2.0/search", json={"status": "error", "message": "nope"})
    with pytest.raises(ConnectorError, match="not a LiQL success envelope"):
        client(clock, retries=0).search(ATLAS, "SELECT id FROM users WHERE login = 'x'")


def test_quote_escapes_liql_strings():
    assert quote("o'brien\\x") == "'o\\'brien\\\\x'"


def test_an_unmeasured_giver_lands_pseudonymised_and_a_hidden_mention_is_dropped(rsps, clock):
    answer(
        rsps,
        ATLAS_URL,
        {
            "FROM users": fixture("users.byLogin"),
            "FROM kudos": fixture("kudos.byMessage"),
            "parent.id": fixture("messages.byParent"),
            "CURSOR": fixture("messages.byAuthor.page2"),
            "FROM messages": fixture("messages.byAuthor.page1"),
        },
    )
    measured = frozenset({f"{ATLAS}:4821", f"{ATLAS}:6001"})  # gracehopper (5150) is not measured
    gate = PrivacyGate("khoros", salt="s", measured_account_ids=measured)
    batch = collect_day(
        client(clock), [f"{ATLAS}/adalovelace"], date(2026, 3, 30), seen_reaction_keys=set(), privacy=gate
    )
    assert not batch.failures
    rows = {(r["reaction_type"], r["reactor_account_id"]) for r in batch.reactions}
    assert rows == {("kudo", gate.pseudonym(f"{ATLAS}:5150")), ("kudo", f"{ATLAS}:6001"), ("reply", f"{ATLAS}:6001")}
    assert [p["post_id"] for p in batch.posts] == [f"{ATLAS}:90211"]
    hidden = [r for r in batch.reactions if r["reactor_account_id"] == gate.pseudonym(f"{ATLAS}:5150")]
    assert [r["payload"] for r in hidden] == ["{}"]
    assert {r["reaction_type"] for r in batch.reactions} == {"kudo", "reply"}  # the mention of 5150: not landed
    assert sorted((c["post_id"], c["reaction_type"], c["total"]) for c in batch.counts) == [
        (f"{ATLAS}:90102", "view", 3),
        (f"{ATLAS}:90211", "view", 57),
    ]


def test_make_client_reads_the_comma_separated_setting():
    kh = make_client("khoros", f"{ATLAS_URL},{BOREALIS_URL}")
    assert set(kh.communities) == {ATLAS, BOREALIS} and kh.gateway is None
