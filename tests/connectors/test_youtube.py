"""YouTube Data API v3 client against recorded-shape fixtures (tests/fixtures/youtube): handle
resolution, uploads paging, comments and replies, the daily unit quota, quotaExceeded and
throttling."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from connector_helpers import http
from responses import matchers

from connectors import make_client
from connectors.http import HttpStatusError, RateBudgetError
from connectors.ingest import AccountSnapshot, Post
from connectors.ratelimit import RateBudget
from connectors.youtube import SPEC, ChannelNotFound, YouTubeClient, error_reason, quota_signal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"
YT = "https://yt.test"
API = f"{YT}/youtube/v3"
CHANNEL = "UCfixtureChannel0000001"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def query(**params) -> list:
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()}, strict_match=False)]


def client(clock, **options) -> YouTubeClient:
    return YouTubeClient(http("youtube", YT, clock, retries=1, **options))


def snapshot() -> AccountSnapshot:
    channel = fixture("channels.list")["items"][0]
    return AccountSnapshot(channel["id"], "fixturechannel", channel)


def test_resolves_a_handle_with_forHandle_and_the_key_parameter(rsps, clock):
    rsps.get(
        f"{API}/channels",
        json=fixture("channels.list"),
        match=query(forHandle="@fixturechannel", part="snippet,statistics,contentDetails", key="k3y"),
    )
    account = client(clock, api_key="k3y", api_key_param="key").resolve_account("fixturechannel")
    assert (account.account_id, account.handle) == (CHANNEL, "fixturechannel")
    assert account.payload["contentDetails"]["relatedPlaylists"]["uploads"] == "UUfixtureChannel0000001"


def test_an_unknown_handle_is_a_404_the_privacy_gate_understands(rsps, clock):
    rsps.get(f"{API}/channels", json={"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0}})
    with pytest.raises(ChannelNotFound) as caught:
        client(clock).resolve_account("@nobody")
    assert caught.value.status == 404 and caught.value.endpoint == "/youtube/v3/channels"


def test_uploads_are_paged_by_token_and_read_through_videos_list(rsps, clock):
    rsps.get(f"{API}/playlistItems", json=fixture("playlistItems.list.page2"), match=query(pageToken="CAIQAA"))
    rsps.get(
        f"{API}/playlistItems",
        json=fixture("playlistItems.list.page1"),
        match=query(playlistId="UUfixtureChannel0000001", maxResults=50, part="snippet,contentDetails"),
    )
    rsps.get(f"{API}/videos", json=fixture("videos.list"), match=query(id="vidB0000002,vidA0000001"))
    rsps.get(f"{API}/videos", json={"items": []}, match=query(id="vidZ0000000"))  # deleted since listed
    rsps.get(
        f"{API}/channels",
        json={"items": [{"id": "UCother", "snippet": {"customUrl": "@otherchannel"}}]},
        match=query(forHandle="@otherchannel"),
    )
    posts = list(client(clock).recent_posts(snapshot()))
    assert [p.post_id for p in posts] == ["vidB0000002", "vidA0000001"]  # newest first
    assert posts[0].reaction_counts == {"comment": 4, "like": 41, "view": 900}
    assert posts[0].mentioned_account_ids == ("UCother",) and posts[1].mentioned_account_ids == ()
    assert posts[0].created_at == datetime(2026, 3, 30, 18, tzinfo=UTC)
    assert len([c for c in rsps.calls if "/playlistItems" in c.request.url]) == 2


def test_comments_are_thread_openers_and_replies_of_every_page(rsps, clock):
    rsps.get(
        f"{API}/commentThreads", json=fixture("commentThreads.list.page2"), match=query(pageToken="QURTSl9wYWdlMg")
    )
    rsps.get(
        f"{API}/commentThreads",
        json=fixture("commentThreads.list.page1"),
        match=query(videoId="vidB0000002", part="snippet,replies", maxResults=100),
    )
    # thread one shows 1 of its 2 replies inline: the rest comes from comments.list(parentId)
    rsps.get(f"{API}/comments", json=fixture("comments.list.byParent"), match=query(parentId="UgzThreadOne4AaABAg"))
    post = Post("vidB0000002", CHANNEL, datetime(2026, 3, 30, 18, tzinfo=UTC), {}, {"comment": 4})
    youtube = client(clock)
    found = [(r.reactor_account_id, r.reacted_at.hour) for r in youtube.reactions(post, "comment")]
    # the channel's own reply is no reaction
    assert found == [("UCviewerOne000000000001", 19), ("UCviewerThree0000000003", 20), ("UCviewerTwo000000000002", 18)]
    calls = len(rsps.calls)
    assert list(youtube.reactions(post, "like")) == [] and list(youtube.reactions(post, "view")) == []
    assert len(rsps.calls) == calls  # anonymous counts cost no call


def test_throttling_403_is_retried(rsps, clock):
    rsps.get(f"{API}/videos", status=403, json=fixture("error.rateLimitExceeded"))
    rsps.get(f"{API}/videos", json=fixture("videos.list"))
    items = client(clock).videos(["vidB0000002"])
    assert [v["id"] for v in items][:1] == ["vidB0000002"]
    assert len(rsps.calls) == 2 and clock.sleeps  # backed off before the retry


def test_quota_exceeded_is_not_retried_and_spends_the_day_until_pacific_midnight(rsps, clock):
    budget = RateBudget(daily_units=SPEC.daily_units, signals=quota_signal, clock=clock.time, sleep=clock.sleep)
    youtube = client(clock, budget=budget)
    rsps.get(f"{API}/videos", status=403, json=fixture("error.quotaExceeded"))
    with pytest.raises(HttpStatusError) as caught:
        youtube.videos(["vidB0000002"], account="fixturechannel")
    assert error_reason(caught.value.body) == "quotaExceeded" and len(rsps.calls) == 1
    assert "youtube /youtube/v3/videos (account fixturechannel): HTTP 403" in str(caught.value)
    with pytest.raises(RateBudgetError, match="rate budget spent"):  # fails fast: nothing is sent
        youtube.videos(["vidA0000001"])
    assert len(rsps.calls) == 1


def test_quota_signal_resets_at_pacific_midnight():
    now = datetime(2026, 3, 30, 23, 30, tzinfo=UTC).timestamp()  # 16:30 in Los Angeles
    signal = quota_signal({}, fixture("error.quotaExceeded"), now)
    reset = datetime.fromtimestamp(signal.reset_at, ZoneInfo("America/Los_Angeles"))
    assert signal.remaining == 0 and (reset.date().day, reset.hour, reset.minute) == (31, 0, 0)
    assert quota_signal({}, fixture("error.rateLimitExceeded"), now) is None
    assert quota_signal({}, {"items": []}, now) is None


def test_daily_units_are_spent_proactively(rsps, clock):
    budget = RateBudget(
        daily_units=2, quota_timezone="America/Los_Angeles", max_wait=None, clock=clock.time, sleep=clock.sleep
    )
    youtube = client(clock, budget=budget)
    rsps.get(f"{API}/videos", json=fixture("videos.list"))
    for _ in range(3):
        youtube.videos(["vidB0000002"])
    waited_until = datetime.fromtimestamp(clock.now, ZoneInfo("America/Los_Angeles"))
    assert len(clock.sleeps) == 1 and (waited_until.hour, waited_until.minute) == (0, 0)


def test_make_client_sends_the_api_key_as_key_and_keeps_it_out_of_errors(rsps, monkeypatch):
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIza-secret-key")
    youtube = make_client("youtube", YT, retries=0)
    assert youtube.http.budget.daily_units == 10_000
    rsps.get(
        f"{API}/commentThreads", status=404, json=fixture("error.videoNotFound"), match=query(key="AIza-secret-key")
    )
    with pytest.raises(HttpStatusError) as caught:
        youtube.comment_threads("gone", account="fixturechannel")
    assert caught.value.status == 404 and error_reason(caught.value.body) == "videoNotFound"
    assert "AIza-secret-key" not in str(caught.value)


def test_accounts_named_finds_channel_ids_at_any_depth():
    thread = fixture("commentThreads.list.page1")["items"][0]
    named = set(YouTubeClient(None).accounts_named(thread))
    assert named == {CHANNEL, "UCviewerOne000000000001"}
