"""YouTube Data API v3 (`/youtube/v3/<resource>`), as the sandbox serves it.

A channel's posts are its uploads (the `UU…` uploads playlist, newest first); what people do to
them is comment. The world's `comment` reactions are served as comment threads: a video's first
comment opens a thread, and each later one either opens its own or (one in three, by its
sequence number) answers the latest thread opened before it, so `comments?parentId=` has replies
to page through. Likes are counts only, as on YouTube (nobody is named): the world draws `like`
reactions with their likers and serves `likeCount`; it has no viewers, so `viewCount` follows the
likes and comments (never fewer later).

No rate-limit headers: the API's limit is a daily quota in units (every list call costs 1),
renewed at midnight Pacific time and answered, once spent, with 403 `quotaExceeded`; its
short-term throttle is 403 `rateLimitExceeded`. Errors are Google's
`{"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}`.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

import numpy as np
import pandas as pd

from sandbox.dialects.common import NetworkDialect, Reply, int_param, random_strings
from sandbox.index import WorldIndex

PREFIX = "/youtube/v3/"
B64URL = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
_MIX = 0x9E3779B97F4A7C15  # odd: multiplying by it mod 2**64 is a bijection (ids look random, decode exactly)
_UNMIX = pow(_MIX, -1, 2**64)
_MASK = 2**64 - 1
DAILY_UNITS = 10_000
QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">'
    "quota</a>."
)


class ApiError(Exception):
    """An error answered in Google's shape with its own status and reason."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube.parameter", **extra: str):
        super().__init__(message)
        self.reply = Reply(status, _error(status, reason, message, domain, **extra))


def _error(status: int, reason: str, message: str, domain: str, **extra: str) -> dict:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason, **extra}],
        }
    }


_GENERIC = {  # the server's generic error codes -> (status, domain, reason)
    "RateLimitExceeded": (403, "usageLimits", "rateLimitExceeded"),
    "InternalServerError": (503, "global", "backendError"),
    "InvalidRequest": (400, "youtube.parameter", "invalidParameter"),
}


def _error_body(code: str, message: str) -> dict:
    status, domain, reason = _GENERIC.get(code, (400, "global", "badRequest"))
    return _error(status, reason, message, domain)


def _throttled(reset_in: float = 0.0, variant: int | None = None) -> Reply:
    return Reply(403, _error(403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"))


def _quota_spent() -> Reply:
    return Reply(403, _error(403, "quotaExceeded", QUOTA_MESSAGE, "youtube.quota"))


def encode_int(value: int, length: int = 11) -> str:
    """A 64-bit number as `length` base64url characters (most significant first)."""
    return "".join(B64URL[(value >> (6 * i)) & 63] for i in range(length - 1, -1, -1))


_B64_INDEX = {c: i for i, c in enumerate(B64URL)}


def comment_id(seq: int) -> str:
    """A comment's id from its reaction's sequence number (reversible)."""
    return "Ugz" + encode_int((seq * _MIX) & _MASK) + "4AaABAg"


def comment_seq(cid: str) -> int | None:
    body = cid.removeprefix("Ugz").removesuffix("4AaABAg")
    if len(body) != 11 or any(c not in _B64_INDEX for c in body):
        return None
    value = 0
    for ch in body:
        value = (value << 6) | _B64_INDEX[ch]
    return (value * _UNMIX) & _MASK


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"CAoQ:{offset}".encode()).decode().rstrip("=")


def _offset(query: dict) -> int:
    raw = query.get("pageToken")
    if not raw:
        return 0
    try:
        tag, _, number = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().partition(":")
        if tag == "CAoQ" and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(400, "invalidPageToken", "The request specifies an invalid page token.")


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _etag(*parts: object) -> str:
    return base64.urlsafe_b64encode(
        hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=20).digest()
    ).decode()[:27]


def _parts(query: dict, allowed: set[str]) -> set[str]:
    raw = query.get("part")
    if not raw:
        raise ApiError(400, "required", "Required parameter: part", "global", location="part", locationType="parameter")
    parts = {p.strip() for p in raw.split(",") if p.strip()}
    unknown = parts - allowed
    if unknown:
        raise ApiError(
            400,
            "unknownPart",
            f"'{sorted(unknown)[0]}'",
            "youtube.part",
            location="part",
            locationType="parameter",
        )
    return parts


def _iso(ms: int) -> str:
    """Google's timestamp style: 2019-11-26T15:51:44Z (whole seconds)."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(kind: str, items: list, total: int, per_page: int, next_offset: int | None, *, omit_empty=False) -> dict:
    body = {"kind": f"youtube#{kind}ListResponse", "etag": _etag(kind, total, next_offset, len(items))}
    if next_offset is not None:
        body["nextPageToken"] = _token(next_offset)
    body["pageInfo"] = {"totalResults": total, "resultsPerPage": per_page}
    if items or not omit_empty:
        body["items"] = items
    return body


class YouTube:
    def __init__(self, index: WorldIndex):
        self.ix = index
        self.reactors = index.reactions.reactor_account_id.to_numpy()
        self._threads = lru_cache(maxsize=4096)(self._thread_layout)

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        handler = {
            "channels": self.channels,
            "playlistItems": self.playlist_items,
            "videos": self.videos,
            "commentThreads": self.comment_threads,
            "comments": self.comments,
        }.get(path.removeprefix(PREFIX))
        if handler is None:
            return Reply(404, _error(404, "notFound", "Not Found", "global"))
        try:
            return handler(query, clock_ms)
        except ApiError as exc:
            return exc.reply

    # --- channels

    def _channel(self, acc: dict, parts: set[str], clock_ms: int) -> dict:
        cid = acc["account_id"]
        item = {"kind": "youtube#channel", "etag": _etag(cid, clock_ms // 86_400_000), "id": cid}
        if "snippet" in parts:
            description = f"{acc['display_name']} on the sandbox."
            item["snippet"] = {
                "title": acc["display_name"],
                "description": description,
                "customUrl": "@" + acc["handle"],
                "publishedAt": _iso(int(acc["created_at"].value // 1_000_000)),
                "thumbnails": {
                    "default": {"url": f"https://yt3.ggpht.com/sandbox/{cid}=s88", "width": 88, "height": 88}
                },
                "localized": {"title": acc["display_name"], "description": description},
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": "UU" + cid[2:]}}
        if "statistics" in parts:
            videos, _ = self.ix.statuses_count(acc, clock_ms)
            followers = int(acc["followers_count"])
            item["statistics"] = {
                "viewCount": str(followers * 37 + videos * 11),
                "subscriberCount": str(followers),
                "hiddenSubscriberCount": False,
                "videoCount": str(videos),
            }
        return item

    def channels(self, query: dict, clock_ms: int) -> Reply:
        parts = _parts(query, {"id", "snippet", "contentDetails", "statistics", "status", "brandingSettings"})
        if query.get("forHandle"):
            handle = query["forHandle"].removeprefix("@").lower()
            found = [self.ix.account_by_handle.get(("youtube", handle))]
        elif query.get("id"):
            found = [self.ix.account_by_id.get(i) for i in query["id"].split(",")]
        else:
            raise ApiError(
                400, "missingRequiredParameter", "No filter selected. Expected one of: forHandle, id, forUsername, mine"
            )
        items = [self._channel(a, parts, clock_ms) for a in found if a and a["network"] == "youtube"]
        return Reply(200, _list("channel", items, len(items), 5, None, omit_empty=True))

    # --- uploads

    def playlist_items(self, query: dict, clock_ms: int) -> Reply:
        parts = _parts(query, {"id", "snippet", "contentDetails", "status"})
        playlist = query.get("playlistId")
        if not playlist:
            raise ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: id, playlistId")
        acc = self.ix.account_by_id.get("UC" + playlist[2:]) if playlist.startswith("UU") else None
        if acc is None or acc["network"] != "youtube":
            raise ApiError(
                404,
                "playlistNotFound",
                "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
                "youtube.playlistItem",
                location="playlistId",
                locationType="parameter",
            )
        limit = int_param(query, "maxResults", 5, 0, 50)
        offset = _offset(query)
        tl = self.ix.account_posts(acc["account_id"])
        visible = tl.visible(clock_ms)
        rows = tl.rows[:visible][::-1][offset : offset + limit]  # uploads: newest first
        items = []
        for position, row in enumerate(rows, start=offset):
            post = self.ix.post_at(int(row))
            vid, published = post["post_id"], _iso(post["ms"])
            item = {"kind": "youtube#playlistItem", "etag": _etag(playlist, vid), "id": _etag(playlist, vid, "item")}
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": published,
                    "channelId": acc["account_id"],
                    "title": _title(post["text"]),
                    "description": post["text"],
                    "thumbnails": _thumbnails(vid),
                    "channelTitle": acc["display_name"],
                    "playlistId": playlist,
                    "position": position,
                    "resourceId": {"kind": "youtube#video", "videoId": vid},
                    "videoOwnerChannelTitle": acc["display_name"],
                    "videoOwnerChannelId": acc["account_id"],
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {"videoId": vid, "videoPublishedAt": published}
            items.append(item)
        following = offset + limit if offset + limit < visible and limit else None
        return Reply(200, _list("playlistItem", items, visible, limit, following))

    # --- videos

    def videos(self, query: dict, clock_ms: int) -> Reply:
        parts = _parts(query, {"id", "snippet", "statistics", "contentDetails", "status"})
        if not query.get("id"):
            raise ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: id, chart, myRating")
        items = []
        for vid in query["id"].split(",")[:50]:
            post = self.ix.post(vid, clock_ms)
            if post is None or post["network"] != "youtube":
                continue  # unknown, deleted or private videos are left out, as on YouTube
            acc = self.ix.account_by_id[post["account_id"]]
            item = {"kind": "youtube#video", "etag": _etag(vid, clock_ms), "id": vid}
            if "snippet" in parts:
                title = _title(post["text"])
                item["snippet"] = {
                    "publishedAt": _iso(post["ms"]),
                    "channelId": acc["account_id"],
                    "title": title,
                    "description": post["text"],
                    "thumbnails": _thumbnails(vid),
                    "channelTitle": acc["display_name"],
                    "tags": [post["topic_slug"]],
                    "categoryId": "28",
                    "liveBroadcastContent": "none",
                    "defaultLanguage": "en",
                    "localized": {"title": title, "description": post["text"]},
                    "defaultAudioLanguage": "en",
                }
            if "statistics" in parts:
                comments = self.ix.count(vid, "comment", clock_ms)
                spread = _digest(vid)
                likes = self.ix.count(vid, "like", clock_ms)
                item["statistics"] = {
                    # the world has no viewers: views follow what the video drew, never fewer later
                    "viewCount": str((likes + comments) * 23 + spread % 97),
                    "likeCount": str(likes),
                    "favoriteCount": "0",
                    "commentCount": str(comments),
                }
            if "status" in parts:
                item["status"] = {"uploadStatus": "processed", "privacyStatus": "public", "publicStatsViewable": True}
            items.append(item)
        return Reply(200, _list("video", items, len(items), len(items), None))

    # --- comments

    def _thread_layout(self, vid: str) -> tuple[list[int], dict[int, list[int]]]:
        """All of a video's comments (every time), as reaction rows: thread openers in time order
        and each opener's replies in time order. The layout never depends on the clock."""
        tl = self.ix.reactions_of(vid, "comment")
        openers: list[int] = []
        replies: dict[int, list[int]] = {}
        for row, seq in zip(tl.rows, tl.keys):
            if openers and int(seq) % 3 == 0:
                replies.setdefault(openers[-1], []).append(int(row))
            else:
                openers.append(int(row))
        return openers, replies

    def _visible(self, rows: list[int], clock_ms: int) -> list[int]:
        return [r for r in rows if self.ix.reaction_ms[r] <= clock_ms]

    def _comment(self, row: int, vid: str, owner: str, parent: str | None) -> dict:
        reactor = self.ix.account_by_id[self.reactors[row]]
        seq = int(self.ix.reactions.seq.iat[row])
        text = f"Great video on {self.ix.post_at(self.ix.post_row[vid])['topic_slug'].replace('-', ' ')}!"
        cid = comment_id(seq) if parent is None else f"{parent}.{encode_int((seq * _MIX) & _MASK, 22)}"
        snippet = {
            "channelId": owner,
            "videoId": vid,
            "textDisplay": text,
            "textOriginal": text,
            "authorDisplayName": "@" + reactor["handle"],
            "authorProfileImageUrl": f"https://yt3.ggpht.com/sandbox/{reactor['account_id']}=s48",
            "authorChannelUrl": f"http://www.youtube.com/@{reactor['handle']}",
            "authorChannelId": {"value": reactor["account_id"]},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": seq % 5,
            "publishedAt": _iso(int(self.ix.reaction_ms[row])),
            "updatedAt": _iso(int(self.ix.reaction_ms[row])),
        }
        if parent is not None:
            snippet["parentId"] = parent
        return {"kind": "youtube#comment", "etag": _etag(cid), "id": cid, "snippet": snippet}

    def comment_threads(self, query: dict, clock_ms: int) -> Reply:
        parts = _parts(query, {"id", "snippet", "replies"})
        vid = query.get("videoId")
        if not vid:
            raise ApiError(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: videoId, allThreadsRelatedToChannelId, id",
            )
        post = self.ix.post(vid, clock_ms)
        if post is None or post["network"] != "youtube":
            raise ApiError(
                404,
                "videoNotFound",
                'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a>'
                "</code> parameter could not be found.",
                "youtube.commentThread",
                location="videoId",
                locationType="parameter",
            )
        limit = int_param(query, "maxResults", 20, 1, 100)
        offset = _offset(query)
        openers, replies = self._threads(vid)
        shown = self._visible(openers, clock_ms)[::-1]  # order=time: newest thread first
        items = []
        for row in shown[offset : offset + limit]:
            top = self._comment(row, vid, post["account_id"], None)
            answers = self._visible(replies.get(row, []), clock_ms)
            thread = {"kind": "youtube#commentThread", "etag": _etag(top["id"], len(answers)), "id": top["id"]}
            if "snippet" in parts:
                thread["snippet"] = {
                    "channelId": post["account_id"],
                    "videoId": vid,
                    "topLevelComment": top,
                    "canReply": True,
                    "totalReplyCount": len(answers),
                    "isPublic": True,
                }
            if "replies" in parts and answers:
                # a few replies only, oldest first: the rest through comments.list(parentId)
                thread["replies"] = {
                    "comments": [self._comment(r, vid, post["account_id"], top["id"]) for r in answers[:5]]
                }
            items.append(thread)
        following = offset + limit if offset + limit < len(shown) else None
        return Reply(200, _list("commentThread", items, len(shown), limit, following))

    def comments(self, query: dict, clock_ms: int) -> Reply:
        _parts(query, {"id", "snippet"})
        parent = query.get("parentId")
        if not parent:
            raise ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: id, parentId")
        seq = comment_seq(parent)
        row = seq - 1 if seq is not None and 0 < seq <= len(self.reactors) else None
        limit = int_param(query, "maxResults", 20, 1, 100)
        offset = _offset(query)
        answers: list[int] = []
        vid = owner = None
        if row is not None and self.ix.reactions.reaction_type.iat[row] == "comment":
            vid = self.ix.reactions.post_id.iat[row]
            owner = self.ix.reactions.target_account_id.iat[row]
            answers = self._visible(self._threads(vid)[1].get(row, []), clock_ms)[::-1]  # newest first
        if row is None or vid is None or self.ix.reaction_ms[row] > clock_ms:
            raise ApiError(
                404,
                "commentNotFound",
                "The comment identified by the <code>parentId</code> parameter could not be found.",
                "youtube.comment",
                location="parentId",
                locationType="parameter",
            )
        items = [self._comment(r, vid, owner, parent) for r in answers[offset : offset + limit]]
        following = offset + limit if offset + limit < len(answers) else None
        body = _list("comment", items, len(answers), limit, following)
        del body["pageInfo"]["totalResults"]  # comments.list gives resultsPerPage only
        return Reply(200, body)


def _title(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def _thumbnails(vid: str) -> dict:
    return {
        "default": {"url": f"https://i.ytimg.com/vi/{vid}/default.jpg", "width": 120, "height": 90},
        "medium": {"url": f"https://i.ytimg.com/vi/{vid}/mqdefault.jpg", "width": 320, "height": 180},
        "high": {"url": f"https://i.ytimg.com/vi/{vid}/hqdefault.jpg", "width": 480, "height": 360},
    }


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """`UC` + 22 base64url characters, handles without the `@` (the API's customUrl adds it); a
    channel has no private flag (a private channel is not served at all)."""
    account_id = pd.Series("UC" + random_strings(rng, len(numbers), 22, B64URL).astype(object))
    return account_id, stems, np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """11-character video ids: time, the day's rank and bits, scrambled by a bijection."""
    n = (ms.astype(np.uint64) << np.uint64(19)) | ((rank.astype(np.uint64) % np.uint64(65536)) << np.uint64(3))
    n = (n | np.uint64(day_bits)) * np.uint64(_MIX)  # wraps mod 2**64
    shifts = np.arange(10, -1, -1, dtype=np.uint64) * np.uint64(6)
    chars = B64URL[((n[:, None] >> shifts[None, :]) & np.uint64(63)).astype(np.int64)]
    return np.ascontiguousarray(chars).view("<U11").ravel().astype(object)


DIALECT = NetworkDialect(
    name="youtube",
    joined=6,
    path_prefix=PREFIX,
    handler=YouTube,
    invalid_status=400,
    error_body=_error_body,
    rate_headers=lambda limit, remaining, reset_epoch, window_s: {},  # YouTube publishes no rate headers
    reaction_mix=(("comment", 0.35), ("like", 0.65)),
    anonymous=("like",),  # likeCount only: the API names no liker
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=lambda post_id: post_id,
    adoption=0.3,
    posts_rate=0.15,
    reactions_rate=6.0,
    rate_window=False,  # no short-term limit is published: the daily quota is the limit
    throttle_reply=_throttled,
    daily_units=DAILY_UNITS,
    quota_timezone="America/Los_Angeles",
    unit_cost=lambda path, query: 1,  # every list call costs 1 unit
    quota_reply=_quota_spent,
)
