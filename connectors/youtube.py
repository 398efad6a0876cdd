"""YouTube Data API v3 client (https://developers.google.com/youtube/v3/docs).

A channel's posts are its uploads: `channels.list(forHandle)` gives the uploads playlist,
`playlistItems.list` pages it newest first and `videos.list` adds each page's statistics. The
only reactions YouTube names a person for are comments: `commentThreads.list(videoId)` (top-level
comments) and `comments.list(parentId)` (replies in a thread), all landed as `comment` on the
video. Likes and views are anonymous counts: they stay in `Post.reaction_counts`, never rows.

Quota: every call costs units (all list calls here: 1) of a daily quota renewed at midnight
Pacific time; the budget spends them proactively (`SPEC.daily_units`), and a 403 `quotaExceeded`
means the day's quota is spent (the rate signal below), not a retryable error. 403
`rateLimitExceeded` / `userRateLimitExceeded` are throttling: retried with backoff.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors.http import ConnectorError, HttpClient, HttpStatusError
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.ratelimit import RateSignal
from connectors.registry import NetworkSpec

NETWORK = "youtube"
DEFAULT_BASE_URL = "https://www.googleapis.com"
API = "/youtube/v3"
QUOTA_TIMEZONE = "America/Los_Angeles"
DAILY_UNITS = 10_000  # the default project quota
UNIT_COST = {"channels": 1, "playlistItems": 1, "videos": 1, "commentThreads": 1, "comments": 1}
COMMENT = "comment"  # the one native reaction word landed
# native word -> the video statistics field counting it; like and view name nobody: counts only
REACTION_COUNTS = {COMMENT: "commentCount", "like": "likeCount", "view": "viewCount"}
LANDED = (COMMENT,)
THROTTLED = {"rateLimitExceeded", "userRateLimitExceeded"}
QUOTA_SPENT = {"quotaExceeded", "dailyLimitExceeded"}
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._-]{1,28}[A-Za-z0-9_])")


class ChannelNotFound(HttpStatusError):
    """`channels.list(forHandle)` answered no channel (YouTube says so with an empty list)."""


def error_reason(body: Any) -> str | None:
    """The first `errors[].reason` of a Google error body."""
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        return None
    errors = body["error"].get("errors") or [{}]
    return errors[0].get("reason") if isinstance(errors[0], Mapping) else None


def quota_signal(headers: Mapping[str, str], body: Mapping[str, Any], now: float) -> RateSignal | None:
    """YouTube's only rate signal is in error bodies: `quotaExceeded` = nothing left until the
    next midnight Pacific time."""
    if error_reason(body) not in QUOTA_SPENT:
        return None
    zone = ZoneInfo(QUOTA_TIMEZONE)
    local = datetime.fromtimestamp(now, zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return RateSignal(remaining=0, reset_at=midnight.timestamp())


class YouTubeClient:
    network = NETWORK

    def __init__(self, http: HttpClient, throttle_retries: int = 4):
        self.http = http
        self.throttle_retries = throttle_retries
        self._channel_ids: dict[str, str | None] = {}  # handle -> channel id (None: no such channel)

    # --- native endpoints ---

    def call(self, resource: str, params: Mapping[str, Any], account: str | None = None) -> dict[str, Any]:
        """One list call; throttling (403 rateLimitExceeded) is retried with backoff."""
        attempt = 0
        while True:
            try:
                return self.http.get(f"{API}/{resource}", params=params, account=account, cost=UNIT_COST[resource])
            except HttpStatusError as exc:
                if error_reason(exc.body) not in THROTTLED or attempt >= self.throttle_retries:
                    raise
                delay = self.http.retry.backoff_factor * 2**attempt
                self.http.stats.add(waited_seconds=delay)
                self.http.retry.pause(delay)
                attempt += 1

    def pages(self, resource: str, params: Mapping[str, Any], account: str | None = None) -> Iterator[list[dict]]:
        """`items` of each page, following `nextPageToken` -> `pageToken`; lazy."""
        params = dict(params)
        for _ in range(self.http.max_pages):
            body = self.call(resource, params, account)
            yield body.get("items") or []
            token = body.get("nextPageToken")
            if not token or token == params.get("pageToken"):
                return
            params["pageToken"] = token
        raise ConnectorError(self.network, f"{API}/{resource}", account, f"more than {self.http.max_pages} pages")

    def channel_by_handle(self, handle: str) -> dict[str, Any]:
        at = handle if handle.startswith("@") else "@" + handle
        body = self.call("channels", {"part": "snippet,statistics,contentDetails", "forHandle": at}, account=handle)
        items = body.get("items") or []
        if not items:
            raise ChannelNotFound(self.network, f"{API}/channels", handle, "no channel for this handle", status=404)
        return items[0]

    def uploads(self, playlist_id: str, *, account: str | None = None) -> Iterator[list[dict]]:
        yield from self.pages(
            "playlistItems", {"part": "snippet,contentDetails", "playlistId": playlist_id, "maxResults": 50}, account
        )

    def videos(self, video_ids: list[str], *, account: str | None = None) -> list[dict[str, Any]]:
        if not video_ids:
            return []
        body = self.call("videos", {"part": "snippet,statistics", "id": ",".join(video_ids[:50])}, account)
        return body.get("items") or []

    def comment_threads(self, video_id: str, *, account: str | None = None) -> list[dict[str, Any]]:
        params = {"part": "snippet,replies", "videoId": video_id, "maxResults": 100, "order": "time"}
        return [t for page in self.pages("commentThreads", params, account) for t in page]

    def replies(self, parent_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        params = {"part": "snippet", "parentId": parent_id, "maxResults": 100}
        for page in self.pages("comments", params, account):
            yield from page

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        channel = self.channel_by_handle(handle)
        custom = (channel.get("snippet") or {}).get("customUrl") or handle
        self._channel_ids[custom.removeprefix("@").lower()] = channel["id"]
        return AccountSnapshot(channel["id"], custom.removeprefix("@"), channel)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        """The uploads playlist, newest first, each page's videos read in one `videos.list`."""
        playlist = ((account.payload.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if not playlist:
            return
        for page in self.uploads(playlist, account=account.handle):
            ids = [
                (item.get("contentDetails") or {}).get("videoId") or item["snippet"]["resourceId"]["videoId"]
                for item in page
            ]
            found = {video["id"]: video for video in self.videos(ids, account=account.handle)}
            for video_id in ids:
                video = found.get(video_id)
                if video is None:
                    continue  # deleted or private since it was listed
                snippet, stats = video["snippet"], video.get("statistics") or {}
                yield Post(
                    post_id=video["id"],
                    account_id=snippet["channelId"],
                    created_at=parse_time(snippet["publishedAt"]),
                    payload=video,
                    reaction_counts={word: int(stats.get(field) or 0) for word, field in REACTION_COUNTS.items()},
                    mentioned_account_ids=self._mentions(snippet, account),
                )

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        """Every comment on the video (thread openers and replies), by their authors; likes and
        views name nobody, so they give no rows. The video's own channel commenting is no reaction."""
        if reaction_type not in LANDED:
            return
        for thread in self.comment_threads(post.post_id, account=post.account_id):
            snippet = thread["snippet"]
            yield from self._reaction(snippet["topLevelComment"], post)
            inline = (thread.get("replies") or {}).get("comments") or []
            if snippet.get("totalReplyCount", 0) > len(inline):
                inline = self.replies(thread["id"], account=post.account_id)
            for reply in inline:
                yield from self._reaction(reply, post)

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """Channel ids at any depth: `channelId`, `videoOwnerChannelId`, `authorChannelId.value`."""
        if isinstance(payload, dict):
            for key in ("channelId", "videoOwnerChannelId"):
                if isinstance(payload.get(key), str):
                    yield payload[key]
            author = payload.get("authorChannelId")
            if isinstance(author, dict) and isinstance(author.get("value"), str):
                yield author["value"]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    # --- helpers ---

    @staticmethod
    def _reaction(comment: dict[str, Any], post: Post) -> Iterator[Reaction]:
        snippet = comment.get("snippet") or {}
        author = (snippet.get("authorChannelId") or {}).get("value")
        if author and author != post.account_id:
            yield Reaction(author, parse_time(snippet["publishedAt"]), comment)

    def _mentions(self, snippet: dict[str, Any], account: AccountSnapshot) -> tuple[str, ...]:
        """`@handle`s in the description, resolved to channel ids (once per client)."""
        found = []
        for handle in MENTION.findall(snippet.get("description") or ""):
            key = handle.lower()
            if key not in self._channel_ids:
                try:
                    self._channel_ids[key] = self.channel_by_handle(handle)["id"]
                except ChannelNotFound:
                    self._channel_ids[key] = None
            channel = self._channel_ids[key]
            if channel and channel != account.account_id and channel not in found:
                found.append(channel)
        return tuple(found)


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=YouTubeClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="YOUTUBE",
    api_key_param="key",
    credentials_required=True,  # every call needs an API key (key=) or an OAuth token
    reaction_types=LANDED,
    anonymous_counts=("like", "view"),
    account_counts={
        "followers_count": "$.statistics.subscriberCount",
        "posts_count": "$.statistics.videoCount",
    },
    daily_units=DAILY_UNITS,
    quota_timezone=QUOTA_TIMEZONE,
    rate_signals=quota_signal,
)
