"""The sandbox's LinkedIn Community Management API: the version and protocol headers it demands,
documented field names (our fixtures), start/count paging, URNs in paths, socialMetadata batch
gets, LinkedIn's error body, the day limit at midnight UTC and LinkedIn's own faults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from served_shapes import missing_keys

from sandbox.dialects.linkedin import REACTION_TYPES
from sandbox.server import FaultConfig, RateLimitConfig, SandboxServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
API = "/rest"
HEADERS = {"LinkedIn-Version": "202511", "X-Restli-Protocol-Version": "2.0.0"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def get(http, url: str, query: str = ""):
    return http.get(f"{url}?{query}" if query else url, headers=HEADERS)


def walk(http, url: str, query: str, count: int) -> list[dict]:
    """Every page, by start/count until paging.total."""
    pages, start = [], 0
    while True:
        answer = get(http, url, f"{query}&start={start}&count={count}" if query else f"start={start}&count={count}")
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        start += len(pages[-1]["elements"])
        if not pages[-1]["elements"] or start >= pages[-1]["paging"]["total"]:
            return pages


def linkedin_error(body: dict) -> tuple[int, str]:
    assert set(body) == {"status", "serviceErrorCode", "code", "message"}, body
    return body["status"], body["code"]


@pytest.fixture(scope="module")
def busiest(world):
    """The world's LinkedIn post with the most reactions and comments, and its author."""
    mine = world.reactions[(world.reactions.network == "linkedin") & (world.reactions.reaction_type != "mention")]
    post = mine.post_id.value_counts().index[0]
    return post, world.posts.set_index("post_id").loc[post, "account_id"]


def test_requests_without_the_version_or_protocol_header_are_refused_as_linkedin_does(base, http):
    url = f"{base}{API}/organizations?q=vanityName&vanityName=x"
    bare = http.get(url)
    assert bare.status_code == 400 and linkedin_error(bare.json()) == (400, "VERSION_MISSING")
    assert set(fixture("error.versionMissing")) == set(bare.json())
    sunset = http.get(url, headers={**HEADERS, "LinkedIn-Version": "202301"})
    assert sunset.status_code == 426 and linkedin_error(sunset.json()) == (426, "NONEXISTENT_VERSION")
    restli = http.get(url, headers={"LinkedIn-Version": "202511"})
    assert restli.status_code == 400 and linkedin_error(restli.json()) == (400, "ILLEGAL_ARGUMENT")
    assert get(http, url).status_code == 200


def test_organizations_by_vanity_name_and_their_follower_count(base, http, world):
    accounts = world.accounts[world.accounts.network == "linkedin"]
    org = accounts[accounts.account_id.str.startswith("urn:li:organization:")].iloc[0]
    body = get(http, f"{base}{API}/organizations", f"q=vanityName&vanityName={org.handle}").json()
    assert missing_keys(fixture("organizations.vanityName"), body) == []
    (element,) = body["elements"]
    assert f"urn:li:organization:{element['id']}" == org.account_id and element["vanityName"] == org.handle
    size = get(
        http, f"{base}{API}/networkSizes/{quote(org.account_id, safe='')}", "edgeType=COMPANY_FOLLOWED_BY_MEMBER"
    )
    assert size.json() == {"firstDegreeSize": int(org.followers_count)}
    nobody = get(http, f"{base}{API}/organizations", "q=vanityName&vanityName=nobody-here").json()
    assert nobody["elements"] == [] and nobody["paging"]["total"] == 0
    member = accounts[accounts.account_id.str.startswith("urn:li:person:")].iloc[0]
    person_id = member.account_id.removeprefix("urn:li:person:")
    profile = get(http, f"{base}{API}/people/(id:{person_id})").json()
    assert missing_keys(fixture("people"), profile) == [] and profile["id"] == person_id
    assert member.handle == member.account_id  # members are tracked by URN
    assert get(http, f"{base}{API}/people/(id:nobody)").status_code == 404


def test_posts_by_author_page_newest_first_in_little_text(base, http, world):
    posts = world.posts[world.posts.network == "linkedin"]
    author = posts.account_id.value_counts().index[0]
    assert (posts.account_id == author).sum() >= 3
    pages = walk(http, f"{base}{API}/posts", f"q=author&author={quote(author, safe='')}&sortBy=CREATED", 2)
    assert missing_keys(fixture("posts.byAuthor.page2"), pages[0]) == []
    served = [p for page in pages for p in page["elements"]]
    expected = posts[posts.account_id == author].sort_values("created_at", ascending=False)
    assert [p["id"] for p in served] == expected.post_id.tolist()
    assert all(re.fullmatch(r"urn:li:(share|ugcPost):\d{19}", p["id"]) for p in served)
    assert all(int(p["id"].rsplit(":", 1)[1]) >> 22 == p["createdAt"] for p in served)  # LinkedIn's activity ids
    assert all(len(page["elements"]) <= 2 for page in pages)
    # a post that mentions someone carries @[Name](urn); hashtags are {hashtag|\#|tag}
    mentioning = posts[posts.mentions.str.len() > 0].iloc[0]
    (post,) = [
        p
        for p in walk(http, f"{base}{API}/posts", f"q=author&author={quote(mentioning.account_id, safe='')}", 100)[0][
            "elements"
        ]
        if p["id"] == mentioning.post_id
    ]
    target = world.accounts.set_index("account_id").loc[mentioning.mentions[0]]
    assert f"@[{target.display_name}]({target.name})" in post["commentary"]
    assert "{hashtag|\\#|" in post["commentary"] and "@" + target.handle not in post["commentary"]


def test_social_metadata_counts_what_the_world_drew(base, http, world, busiest):
    post, _ = busiest
    ids = f"List({quote(post, safe='')},{quote('urn:li:share:1', safe='')})"
    body = get(http, f"{base}{API}/socialMetadata", f"ids={ids}").json()
    meta = body["results"][post]
    assert missing_keys(fixture("socialMetadata.batch")["results"][POST_EXAMPLE], meta) == []
    drawn = world.reactions[world.reactions.post_id == post].reaction_type.value_counts()
    assert sum(r["count"] for r in meta["reactionSummaries"].values()) == drawn.get("reaction", 0)
    assert set(meta["reactionSummaries"]) <= {t for t, _ in REACTION_TYPES}
    assert meta["commentSummary"]["count"] == drawn.get("comment", 0)
    assert body["statuses"] == {post: 200, "urn:li:share:1": 404}
    assert linkedin_error(body["errors"]["urn:li:share:1"]) == (404, "RESOURCE_NOT_FOUND")


POST_EXAMPLE = "urn:li:share:7444556450921185370"


def test_reactions_and_comments_page_to_every_actor(base, http, world, busiest):
    post, _ = busiest
    encoded = quote(post, safe="")
    reactions = walk(http, f"{base}{API}/reactions/(entity:{encoded})", "q=entity", 3)
    assert missing_keys(fixture("reactions.byEntity"), reactions[0]) == []
    elements = [e for page in reactions for e in page["elements"]]
    times = [e["created"]["time"] for e in elements]
    assert times == sorted(times, reverse=True)  # REVERSE_CHRONOLOGICAL by default
    assert {e["reactionType"] for e in elements} <= {t for t, _ in REACTION_TYPES}
    comments = walk(http, f"{base}{API}/socialActions/{encoded}/comments", "", 2)
    assert missing_keys(fixture("comments"), comments[0]) == []
    drawn = world.reactions[world.reactions.post_id == post]
    for served, word in ((elements, "reaction"), ([e for p in comments for e in p["elements"]], "comment")):
        assert sorted(e["created"]["actor"] for e in served) == sorted(
            drawn[drawn.reaction_type == word].reactor_account_id
        )
    gone = get(http, f"{base}{API}/socialActions/{quote('urn:li:share:1', safe='')}/comments")
    assert gone.status_code == 404 and linkedin_error(gone.json()) == (404, "RESOURCE_NOT_FOUND")
    unknown = get(http, f"{base}{API}/nothingHere")
    assert unknown.status_code == 404 and linkedin_error(unknown.json()) == (404, "RESOURCE_NOT_FOUND")


def test_the_day_limit_is_a_429_naming_it_with_no_rate_headers(world, http):
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=5, window_s=60, daily_units=3)) as server:
        url = f"{server.base_url}{API}/organizations"
        answers = [get(http, url, "q=vanityName&vanityName=nobody") for _ in range(8)]
    assert [a.status_code for a in answers] == [200, 200, 200] + [429] * 5  # no request window: only the day
    assert linkedin_error(answers[-1].json()) == (429, "TOO_MANY_REQUESTS")
    assert "APPLICATION DAY limit" in answers[-1].json()["message"]
    assert not any(h.lower().startswith(("x-ratelimit", "ratelimit", "retry-after")) for h in answers[-1].headers)


@pytest.mark.parametrize(("kind", "status"), [("429", 429), ("503", 503)])
def test_faults_are_linkedins_own(world, http, kind, status):
    with SandboxServer(world, faults=FaultConfig(seed=1, rate=1.0, kinds=(kind,))) as server:
        answer = get(http, f"{server.base_url}{API}/organizations", "q=vanityName&vanityName=x")
    assert answer.status_code == status and linkedin_error(answer.json())[0] == status
    assert "DAY limit" not in answer.json()["message"]  # a throttle to retry, not a spent day
