"""The sandbox's Wikipedia answers have the shapes of the real ones (tests/fixtures/wikipedia,
written from the MediaWiki and Wikimedia REST documentation): field names, the `continue`
protocol, error bodies, maxlag with Retry-After, the User-Agent policy and problem+json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.dialects.wikipedia import _fault_reply, _pushback
from sandbox.server import FaultConfig, SandboxServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wikipedia"
UA = {"User-Agent": "open-klout-tests/1.0 (https://example.invalid/open-klout; tests)"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def wiki(world):
    accounts = world.accounts[world.accounts.network == "wikipedia"]
    posts = world.posts[world.posts.network == "wikipedia"]
    reactions = world.reactions[world.reactions.network == "wikipedia"]
    busiest = posts.account_id.value_counts().index[0]
    by_id = accounts.set_index("account_id").handle
    return {
        "editor": by_id[busiest],
        "thanked": by_id[reactions[reactions.reaction_type == "thank"].target_account_id.iloc[0]],
        "edited_page": reactions[reactions.reaction_type == "reply"].post_id.iloc[0],
    }


def api(http, base, **params):
    response = http.get(f"{base}/w/api.php", params={"action": "query", "format": "json", **params}, headers=UA)
    assert response.status_code == 200, response.text
    return response


def test_a_request_without_a_descriptive_user_agent_is_refused(http, base, wiki):
    for agent in ("", "python-requests/2.32", "curl/8.0"):
        response = http.get(f"{base}/w/api.php", params={"action": "query"}, headers={"User-Agent": agent})
        assert response.status_code == 403 and "user-agent" in response.text.lower()
    assert http.get(f"{base}/w/api.php", params={"action": "query"}, headers=UA).status_code == 200


def test_users_have_the_documented_fields(http, base, wiki):
    body = api(
        http,
        base,
        list="users",
        ususers=f"{wiki['editor']}|Nobody here",
        usprop="editcount|registration",
        formatversion=2,
    ).json()
    ref = fixture("users_v2")["query"]["users"]
    got = body["query"]["users"]
    assert set(got[0]) == set(ref[0]) and got[1] == {"name": "Nobody here", "missing": True}
    assert body["batchcomplete"] is True


@pytest.mark.parametrize("version, ref", [("1", "usercontribs"), ("2", "usercontribs_v2")])
def test_usercontribs_fields_flags_and_continue(http, base, wiki, version, ref):
    expected = fixture(ref)
    first = api(http, base, list="usercontribs", ucuser=wiki["editor"], uclimit=2, formatversion=version).json()
    items = first["query"]["usercontribs"]
    base_keys = {"userid", "user", "pageid", "revid", "parentid", "ns", "title", "timestamp", "comment", "size"}
    for item in items:
        assert base_keys <= set(item)
        assert set(item) - base_keys <= {"new", "minor", "top"}
        if version == "2":
            assert set(item) == set(expected["query"]["usercontribs"][0])
    assert set(first["continue"]) == set(fixture("usercontribs")["continue"])
    assert first["batchcomplete"] == ("" if version == "1" else True)
    # send back every key of `continue`: the next page follows on, newest first, no overlap
    second = api(
        http, base, list="usercontribs", ucuser=wiki["editor"], uclimit=2, formatversion=version, **first["continue"]
    ).json()
    revids = [i["revid"] for i in items + second["query"]["usercontribs"]]
    assert revids == sorted(revids, reverse=True) and len(set(revids)) == len(revids)


def test_every_contribution_is_reached_through_continue(http, base, wiki):
    params = {"list": "usercontribs", "ucuser": wiki["editor"], "uclimit": 3, "formatversion": 2}
    seen, pages = [], 0
    while True:
        body = api(http, base, **params).json()
        seen += [i["revid"] for i in body["query"]["usercontribs"]]
        pages += 1
        if "continue" not in body:
            break
        params = {**params, **body["continue"]}
    whole = api(http, base, list="usercontribs", ucuser=wiki["editor"], uclimit="max", formatversion=2).json()
    assert seen == [i["revid"] for i in whole["query"]["usercontribs"]] and pages > 1


def test_thanks_log_entries_have_the_logevents_fields(http, base, wiki):
    body = api(
        http,
        base,
        list="logevents",
        letype="thanks",
        letitle=f"User:{wiki['thanked']}",
        leprop="ids|title|type|user|userid|timestamp|comment|details",
    ).json()
    ref = fixture("logevents_thanks")["query"]["logevents"][0]
    entry = body["query"]["logevents"][0]
    assert set(entry) == set(ref)
    assert (entry["type"], entry["action"], entry["ns"], entry["title"]) == (
        "thanks",
        "thank",
        2,
        f"User:{wiki['thanked']}",
    )
    assert entry["params"] == {}  # the thanked revision is not in the API (docs/contracts.md)


def test_each_thank_is_for_the_thanked_editors_latest_edit_before_it(world):
    """The log names no revision: the world draws every thank for the edit a client can only
    assume, the recipient's latest edit at or before the thank (to the second), once per thanker."""
    r = world.reactions
    thanks = r[(r.network == "wikipedia") & (r.reaction_type == "thank")]
    assert len(thanks) > 0 and not thanks.duplicated(["post_id", "reactor_account_id"]).any()
    edits = world.posts[world.posts.network == "wikipedia"].set_index("post_id")
    for thank in thanks.itertuples():
        mine = edits[edits.account_id == thank.target_account_id]
        before = mine[mine.created_at.dt.floor("s") <= thank.created_at.floor("s")]
        latest = before.sort_values("created_at").index[-1]
        assert thank.post_id == latest, thank


def test_revisions_of_one_page_newer_with_continue(http, base, wiki):
    params = {
        "prop": "revisions",
        "pageids": wiki["edited_page"],
        "rvprop": "ids|timestamp|user|userid|comment|size",
        "rvlimit": 1,
        "rvdir": "newer",
        "formatversion": 2,
    }
    body = api(http, base, **params).json()
    page = body["query"]["pages"][0]
    ref = fixture("revisions_v2")["query"]["pages"][0]
    assert set(page) == set(ref) and set(page["revisions"][0]) == set(ref["revisions"][0])
    assert page["revisions"][0]["parentid"] == 0 and "rvcontinue" in body["continue"]
    nxt = api(http, base, **{**params, **body["continue"]}).json()["query"]["pages"][0]["revisions"][0]
    assert nxt["parentid"] == page["revisions"][0]["revid"]
    # v1 keys pages by id
    v1 = api(http, base, prop="revisions", pageids=wiki["edited_page"]).json()
    assert list(v1["query"]["pages"]) == [str(page["pageid"])]


def test_api_errors_are_http_200_with_an_error_object(http, base, wiki):
    bad = api(http, base, list="nosuchmodule").json()
    assert bad["error"]["code"] == "badvalue" and "*" in bad["error"]
    mult = api(http, base, prop="revisions", pageids=f"{wiki['edited_page']}|1", rvlimit=5, formatversion=2).json()
    assert mult["error"]["code"] == "multpages" and "docref" in mult["error"]


def test_maxlag_has_the_documented_body_and_headers():
    reply = _pushback("/w/api.php?action=query&maxlag=5&format=json", limit=100, remaining=3, reset_in=2.4)
    ref = fixture("error_maxlag")
    assert reply.status == 200 and set(reply.body["error"]) == set(ref["body"]["error"])
    assert set(ref["headers"]) <= set(reply.headers) and reply.headers["Retry-After"] == "3"
    # only for a request that asked for maxlag, only on the Action API, only under load
    assert _pushback("/w/api.php?action=query", 100, 3, 2.4) is None
    assert _pushback("/w/api.php?action=query&maxlag=5", 100, 60, 2.4) is None
    assert _pushback("/api/rest_v1/metrics/pageviews/per-article/x", 100, 3, 2.4) is None


def test_injected_faults_are_wikipedias_own(world):
    assert _fault_reply("429", "/w/api.php?action=query&maxlag=5", 0).body["error"]["code"] == "maxlag"
    rest = _fault_reply("503", "/api/rest_v1/metrics/pageviews/per-article/a", 0)
    assert rest.status == 503 and rest.body["type"].startswith("https://mediawiki.org/wiki/HyperSwitch/errors/")
    with SandboxServer(world, faults=FaultConfig(seed=1, rate=1.0, kinds=("429",))) as srv:
        status, headers, payload, fault = srv.handle(
            "GET", "/w/api.php?action=query&list=users&ususers=X&maxlag=5", b"", UA
        )
    assert (status, fault, json.loads(payload)["error"]["code"]) == (200, "429", "maxlag") and "Retry-After" in headers


def test_pageviews_per_article_and_problem_json(http, base, wiki):
    pages = api(http, base, prop="revisions", pageids=wiki["edited_page"], formatversion=2).json()["query"]["pages"]
    article = pages[0]["title"].replace(" ", "_")
    url = f"{base}/api/rest_v1/metrics/pageviews/per-article/en.wikipedia/all-access/user/{article}/daily"
    body = http.get(f"{url}/20260101/20260331", headers=UA).json()
    ref = fixture("pageviews")["items"][0]
    assert body["items"] and set(body["items"][0]) == set(ref) and body["items"][0]["article"] == article
    missing = http.get(f"{url.replace(article, 'No_such_page')}/20260101/20260331", headers=UA)
    assert missing.status_code == 404 and set(missing.json()) == set(fixture("pageviews_not_found"))
    invalid = http.get(f"{url}/20260331/20260101", headers=UA)
    assert invalid.status_code == 400 and invalid.json()["type"].endswith("invalid_request")
