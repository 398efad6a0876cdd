"""The influence API: its numbers are the snapshot's rows, unchanged, every answer is stamped with
its day, formula and snapshot, unknown people and topics are 404, and its docs are served offline."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.web.conftest import AS_OF

PERSON_IDS = ["p000001", "p000002", "bluesky:did:plc:abc", "khoros:community.example:42", "p000005", "p000006"]
SUB = ["", "/history", "/topics", "/influencers", "/influencees"]
ANSWERS = [f"/api/v1/people/{pid}{s}" for pid in PERSON_IDS for s in SUB] + [
    "/api/v1/leaderboard",
    "/api/v1/leaderboard?limit=2&offset=1",
    "/api/v1/topics/python/leaderboard",
    "/api/v1/topics/django/leaderboard",
    "/api/v1/search?q=a",
]


def rows(conn, sql, params=()):
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@pytest.mark.parametrize("url", ANSWERS)
def test_every_answer_says_which_day_formula_and_snapshot(client, snapshot_rows, url):
    r = client.get(url)
    assert r.status_code == 200, r.text
    body = r.json()
    version, as_of, formula = snapshot_rows.execute("select version, as_of, formula_version from meta").fetchone()
    assert (body["snapshot_version"], body["as_of"], body["formula_version"]) == (version, str(as_of), formula)
    assert body["as_of"] == str(AS_OF)


@pytest.mark.parametrize("pid", PERSON_IDS)
def test_person_numbers_are_the_snapshots(client, snapshot_rows, pid):
    body = client.get(f"/api/v1/people/{pid}").json()
    (row,) = rows(snapshot_rows, "select * from people where person_id = ?", [pid])
    for key in ("person_id", "display_name", "is_registered", "score", "previous_score", "delta", "rank"):
        assert body[key] == row[key], key
    subs = rows(snapshot_rows, "select * from subscores where person_id = ?", [pid])
    by_sub, by_net = defaultdict(float), defaultdict(lambda: defaultdict(float))
    for s in subs:
        by_sub[s["subscore"]] += s["points"]
        by_net[s["network"]][s["subscore"]] += s["points"]
        by_net[s["network"]]["points"] += s["points"]
    assert body["subscores"] == {k: by_sub[k] for k in ("reach", "amplification", "network_impact")}
    assert {n["network"]: {k: v for k, v in n.items() if k != "network"} for n in body["networks"]} == {
        net: {k: parts[k] for k in ("points", "reach", "amplification", "network_impact")}
        for net, parts in by_net.items()
    }
    assert [n["points"] for n in body["networks"]] == sorted((n["points"] for n in body["networks"]), reverse=True)
    (kplus,) = snapshot_rows.execute(
        "select coalesce(sum(points), 0) from score_kplus where person_id = ?", [pid]
    ).fetchone()
    assert body["kplus_points"] == kplus
    if subs:  # the fixture's points (and +K's) add up to the score, as the snapshot's must
        assert abs(sum(body["subscores"].values()) + body["kplus_points"] - body["score"]) <= 0.01
    reasons = rows(
        snapshot_rows,
        "select rank, network, subscore, points from score_reasons where person_id = ? order by rank",
        [pid],
    )
    assert [{k: r[k] for k in ("rank", "network", "subscore", "points")} for r in body["reasons"]] == reasons
    discounts = rows(snapshot_rows, "select kind, points from score_discounts where person_id = ?", [pid])
    assert sorted((d["kind"], d["points"]) for d in body["discounts"]) == sorted(
        (d["kind"], d["points"]) for d in discounts
    )
    handles = rows(
        snapshot_rows, "select network, handle from handles where person_id = ? order by network, handle", [pid]
    )
    assert body["handles"] == handles


def test_reasons_read_in_points(client):
    texts = [r["text"] for r in client.get("/api/v1/people/p000001").json()["reasons"]]
    assert texts == [
        "+1.20 points from Bluesky reach",
        "-0.35 points from Mastodon amplification",
        "+0.35 points from Mastodon reach",
    ]


def test_discounts_kplus_and_their_moves_read_in_points(client):
    body = client.get("/api/v1/people/p000002").json()
    assert [(d["name"], d["points"]) for d in body["discounts"]] == [
        ("engagement-ring discount", 4.1),
        ("+K-clique discount", 0.3),
    ]
    assert [r["text"] for r in body["reasons"]] == [
        "-4.10 points from the engagement-ring discount",
        "-0.60 points from Mastodon reach",
        "+0.10 points from accepted +K",
    ]
    assert body["kplus_points"] == 0.5
    ada = client.get("/api/v1/people/p000001").json()
    assert ada["discounts"] == [] and ada["kplus_points"] == 0.0


@pytest.mark.parametrize("pid", PERSON_IDS)
def test_history_is_the_snapshots(client, snapshot_rows, pid):
    body = client.get(f"/api/v1/people/{pid}/history").json()
    expected = rows(snapshot_rows, "select day, score from score_history where person_id = ? order by day", [pid])
    assert body["history"] == [{"day": str(r["day"]), "score": r["score"]} for r in expected]
    assert body["history_days"] == 90


def test_ada_has_the_fixtures_history(client):
    history = client.get("/api/v1/people/p000001/history").json()["history"]
    assert history == [
        {"day": "2026-11-26", "score": 57.5},
        {"day": "2026-11-27", "score": 58.8},
        {"day": "2026-11-28", "score": 60.0},
    ]


@pytest.mark.parametrize("pid", PERSON_IDS)
def test_topics_are_the_snapshots(client, snapshot_rows, pid):
    body = client.get(f"/api/v1/people/{pid}/topics").json()
    expected = rows(
        snapshot_rows,
        """select pt.topic_slug, t.name, evidence, is_expert, person_rank, kplus_90d
           from person_topics pt left join topics t on t.slug = pt.topic_slug
           where person_id = ? order by person_rank""",
        [pid],
    )
    assert body["topics"] == expected


@pytest.mark.parametrize("pid", PERSON_IDS)
@pytest.mark.parametrize(("endpoint", "direction"), [("influencers", "influenced_by"), ("influencees", "influences")])
def test_influence_is_the_snapshots(client, snapshot_rows, pid, endpoint, direction):
    body = client.get(f"/api/v1/people/{pid}/{endpoint}").json()
    expected = rows(
        snapshot_rows,
        "select rank, other_person_id, flow from influence where person_id = ? and direction = ? order by rank",
        [pid, direction],
    )
    assert [(p["rank"], p["person_id"], p["flow"]) for p in body[endpoint]] == [
        (r["rank"], r["other_person_id"], r["flow"]) for r in expected
    ]
    for p in body[endpoint]:
        assert client.get(p["url"]).status_code == 200


def test_influencers_are_who_influences_them(client):
    body = client.get("/api/v1/people/p000001/influencers").json()
    assert [p["display_name"] for p in body["influencers"]] == ["Bob Sky", "<script>alert(1)</script>"]
    assert body["influencers"][0]["url"] == "/api/v1/people/bluesky:did:plc:abc"
    assert [p["person_id"] for p in client.get("/api/v1/people/p000001/influencees").json()["influencees"]] == [
        "khoros:community.example:42"
    ]


def test_leaderboard_is_the_snapshots(client, snapshot_rows):
    expected = rows(snapshot_rows, "select rank, person_id, score from leaderboard order by rank")
    body = client.get("/api/v1/leaderboard").json()
    assert [(e["rank"], e["person_id"], e["score"]) for e in body["leaderboard"]] == [
        (r["rank"], r["person_id"], r["score"]) for r in expected
    ]
    assert body["total"] == len(expected)
    page = client.get("/api/v1/leaderboard", params={"limit": 2, "offset": 1}).json()
    assert [e["rank"] for e in page["leaderboard"]] == [2, 3]
    assert client.get("/api/v1/leaderboard", params={"limit": 0}).status_code == 422


def test_topic_leaderboard_is_the_snapshots(client, snapshot_rows):
    body = client.get("/api/v1/topics/python/leaderboard").json()
    expected = rows(
        snapshot_rows,
        "select * from topic_leaderboards where topic_slug = 'python' order by rank_influence nulls last, person_id",
    )
    got = [
        (e["person_id"], e["topic_score"], e["kplus_count"], e["rank_influence"], e["rank_kplus"], e["sash"])
        for e in body["leaderboard"]
    ]
    assert got == [
        (r["person_id"], r["topic_score"], r["kplus_count"], r["rank_influence"], r["rank_kplus"], r["sash"])
        for r in expected
    ]
    assert body["topic"] == {"slug": "python", "name": "Python"}
    assert body["parents"] == [{"slug": "programming", "name": "Programming"}]
    assert body["children"] == [{"slug": "django", "name": "Django"}]


def test_search_finds_names_and_handles(client):
    ids = lambda q: [r["person_id"] for r in client.get("/api/v1/search", params={"q": q}).json()["results"]]  # noqa: E731
    assert ids("LOVELACE") == ["p000001"]
    assert ids("bsky") == ["p000001", "bluesky:did:plc:abc"]  # best ranked first
    assert ids("%") == ["p000006"] and ids("") == []


@pytest.mark.parametrize(
    "url",
    [f"/api/v1/people/p999999{s}" for s in SUB] + ["/api/v1/topics/nope/leaderboard", "/api/v1/people/p000001/nope"],
)
def test_unknown_people_and_topics_are_json_404s(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json") and "detail" in r.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/people/p000001", "/api/v1/leaderboard", "/api/v1/search"])
def test_the_api_is_read_only(client, method, url):
    assert getattr(client, method)(url).status_code == 405


def test_openapi_documents_every_endpoint_and_field(client):
    spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/people/{person_id}",
        "/api/v1/people/{person_id}/history",
        "/api/v1/people/{person_id}/topics",
        "/api/v1/people/{person_id}/influencers",
        "/api/v1/people/{person_id}/influencees",
        "/api/v1/leaderboard",
        "/api/v1/topics/{slug}/leaderboard",
        "/api/v1/search",
    } == paths  # the HTML pages are not API
    assert all(set(ops) == {"get"} for ops in spec["paths"].values())
    person = spec["components"]["schemas"]["Person"]["properties"]
    for field in ("as_of", "formula_version", "snapshot_version", "score", "subscores", "networks", "reasons"):
        assert field in person
    ref = spec["paths"]["/api/v1/people/{person_id}"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert ref["$ref"].endswith("/Person")


def test_docs_are_served_offline(client):
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    html = client.get("/api/docs").text
    for path in ("/api/v1/people/{person_id}/influencers", "/api/v1/topics/{slug}/leaderboard", "/api/v1/search"):
        assert f'<code class="path">{path}</code>' in html
    assert "Who influences this person" in html  # summaries
    assert 'id="schema-Person"' in html and "<code>formula_version</code>" in html  # response schema fields
    assert "<code>limit</code>" in html  # parameters
    assert "cdn" not in html.lower() and "swagger-ui" not in html.lower()
