"""The sandbox's YouTube Data API v3: documented field names (our fixtures, shaped after the API's
recorded examples), token paging, Google's error bodies, the daily unit quota and YouTube's own
faults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from served_shapes import missing_keys

from sandbox.server import FaultConfig, RateLimitConfig, SandboxServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"
API = "/youtube/v3"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def walk(http, url: str, params: dict) -> list[dict]:
    """Every page's body, following nextPageToken -> pageToken."""
    pages = []
    while True:
        response = http.get(url, params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = pages[-1].get("nextPageToken")
        if not token:
            return pages
        params = {**params, "pageToken": token}


def google_error(body: dict) -> tuple[int, str]:
    error = body["error"]
    assert set(error) >= {"code", "message", "errors"} and set(error["errors"][0]) >= {"message", "domain", "reason"}
    return error["code"], error["errors"][0]["reason"]


@pytest.fixture(scope="module")
def busiest(world):
    """The world's YouTube video with the most comments among those with a reply in a thread (a later
    comment whose sequence number is divisible by 3, docs/contracts.md), and its channel."""
    comments = world.reactions[(world.reactions.network == "youtube") & (world.reactions.reaction_type == "comment")]
    answered = comments.groupby("post_id").seq.apply(lambda seqs: any(s % 3 == 0 for s in sorted(seqs)[1:]))
    video = comments[comments.post_id.isin(answered[answered].index)].post_id.value_counts().index[0]
    channel = world.posts.set_index("post_id").loc[video, "account_id"]
    return video, world.accounts.set_index("account_id").loc[channel]


def test_channel_by_handle_has_the_documented_fields(base, http, busiest):
    _, channel = busiest
    part = "snippet,statistics,contentDetails"
    body = http.get(f"{base}{API}/channels", params={"forHandle": "@" + channel.handle, "part": part}).json()
    assert missing_keys(fixture("channels.list"), body) == []
    item = body["items"][0]
    assert item["id"] == channel.name and item["id"].startswith("UC") and len(item["id"]) == 24
    assert item["snippet"]["customUrl"] == "@" + channel.handle
    assert item["statistics"]["subscriberCount"] == str(channel.followers_count)  # counts are strings
    assert item["contentDetails"]["relatedPlaylists"]["uploads"] == "UU" + channel.name[2:]
    only_id = http.get(f"{base}{API}/channels", params={"forHandle": channel.handle, "part": "id"}).json()
    assert set(only_id["items"][0]) == {"kind", "etag", "id"}  # only the parts asked for
    nobody = http.get(f"{base}{API}/channels", params={"forHandle": "@nobody-here", "part": "id"}).json()
    assert "items" not in nobody and nobody["pageInfo"]["totalResults"] == 0


def test_uploads_page_by_token_newest_first(base, http, world):
    uploads = world.posts[world.posts.network == "youtube"].account_id.value_counts()
    channel = world.accounts.set_index("account_id").loc[uploads.index[0]]  # the most uploads: several pages
    assert uploads.iloc[0] >= 3
    params = {"playlistId": "UU" + channel.name[2:], "part": "snippet,contentDetails", "maxResults": 2}
    pages = walk(http, f"{base}{API}/playlistItems", params)
    items = [i for p in pages for i in p["items"]]
    assert missing_keys(fixture("playlistItems.list.page1"), pages[0]) == []
    expected = world.posts[(world.posts.account_id == channel.name)].sort_values("created_at", ascending=False)
    assert [i["contentDetails"]["videoId"] for i in items] == expected.post_id.tolist()
    assert [i["snippet"]["position"] for i in items] == list(range(len(items)))
    assert all(len(p["items"]) <= 2 for p in pages) and "nextPageToken" not in pages[-1]
    bad = http.get(f"{base}{API}/playlistItems", params={**params, "pageToken": "not-a-token"})
    assert bad.status_code == 400 and google_error(bad.json()) == (400, "invalidPageToken")


def test_videos_carry_statistics_as_strings(base, http, world, busiest):
    video, _ = busiest
    body = http.get(f"{base}{API}/videos", params={"id": f"{video},nonexistent", "part": "snippet,statistics"}).json()
    assert missing_keys(fixture("videos.list"), body) == []
    (item,) = body["items"]  # an unknown id is left out
    comments = ((world.reactions.post_id == video) & (world.reactions.reaction_type == "comment")).sum()
    assert item["statistics"]["commentCount"] == str(comments)
    likes = ((world.reactions.post_id == video) & (world.reactions.reaction_type == "like")).sum()
    assert item["statistics"]["likeCount"] == str(likes)  # the world's likers, served as a count only
    assert all(isinstance(v, str) for v in item["statistics"].values())


def test_comment_threads_and_replies_page_to_every_comment(base, http, world, busiest):
    video, _ = busiest
    threads = walk(http, f"{base}{API}/commentThreads", {"videoId": video, "part": "snippet,replies", "maxResults": 3})
    assert missing_keys(fixture("commentThreads.list.page2"), threads[0]) == []
    authors = []
    with_replies = None
    for page in threads:
        for thread in page["items"]:
            top = thread["snippet"]["topLevelComment"]
            assert top["id"] == thread["id"] and "parentId" not in top["snippet"]
            authors.append(top["snippet"]["authorChannelId"]["value"])
            if thread["snippet"]["totalReplyCount"]:
                with_replies = thread
                replies = walk(
                    http, f"{base}{API}/comments", {"parentId": thread["id"], "part": "snippet", "maxResults": 1}
                )
                answers = [c for p in replies for c in p["items"]]
                assert len(answers) == thread["snippet"]["totalReplyCount"]
                assert all(
                    c["snippet"]["parentId"] == thread["id"] and c["id"].startswith(thread["id"] + ".") for c in answers
                )
                assert len(thread["replies"]["comments"]) == min(5, len(answers))
                authors += [c["snippet"]["authorChannelId"]["value"] for c in answers]
    assert with_replies is not None, "the busiest video has a thread with replies"
    assert missing_keys(fixture("comments.list.byParent")["items"][0], with_replies["replies"]["comments"][0]) == []
    expected = world.reactions[(world.reactions.post_id == video) & (world.reactions.reaction_type == "comment")]
    expected = expected.reactor_account_id
    assert sorted(authors) == sorted(expected)
    times = [t["snippet"]["topLevelComment"]["snippet"]["publishedAt"] for p in threads for t in p["items"]]
    assert times == sorted(times, reverse=True)  # order=time: newest first


def test_errors_are_googles_body(base, http):
    missing_part = http.get(f"{base}{API}/videos", params={"id": "x"})
    assert missing_part.status_code == 400 and google_error(missing_part.json()) == (400, "required")
    gone = http.get(f"{base}{API}/commentThreads", params={"videoId": "nonexistent", "part": "snippet"})
    assert gone.status_code == 404 and google_error(gone.json()) == (404, "videoNotFound")
    assert set(fixture("error.videoNotFound")["error"]["errors"][0]) <= set(gone.json()["error"]["errors"][0])
    no_parent = http.get(f"{base}{API}/comments", params={"parentId": "UgzNope", "part": "snippet"})
    assert no_parent.status_code == 404 and google_error(no_parent.json()) == (404, "commentNotFound")


def test_daily_quota_is_counted_in_units_and_answered_403_quota_exceeded(world, http):
    with SandboxServer(world, rate_limit=RateLimitConfig(limit=5, window_s=60, daily_units=3)) as server:
        url = f"{server.base_url}{API}/channels"
        answers = [http.get(url, params={"forHandle": "@nobody", "part": "id"}) for _ in range(8)]
    assert [a.status_code for a in answers] == [200, 200, 200] + [403] * 5  # no request window: only the quota
    assert google_error(answers[-1].json()) == (403, "quotaExceeded")
    assert answers[-1].json()["error"]["errors"][0]["domain"] == "youtube.quota"
    assert not any(h.lower().startswith(("x-ratelimit", "ratelimit", "retry-after")) for h in answers[0].headers)


@pytest.mark.parametrize(
    ("kind", "status", "reason"), [("429", 403, "rateLimitExceeded"), ("503", 503, "backendError")]
)
def test_faults_are_youtubes_own(world, http, kind, status, reason):
    with SandboxServer(world, faults=FaultConfig(seed=1, rate=1.0, kinds=(kind,))) as server:
        answer = http.get(f"{server.base_url}{API}/channels", params={"forHandle": "@nobody", "part": "id"})
    assert answer.status_code == status and google_error(answer.json()) == (status, reason)
