"""X API v2 (https://docs.x.com/x-api), as the sandbox serves it.

What it imitates: snowflake ids as strings; objects carry only the default fields (`id`, `text`,
`edit_history_tweet_ids` for a post; `id`, `name`, `username` for a user) plus those asked for in
`tweet.fields` / `user.fields`, and `includes.users` for the `expansions` asked for;
`meta.next_token` paging sent back as `pagination_token` (search also takes `next_token`);
`max_results` outside an endpoint's range is a 400 `invalid-request` problem; a user or post that
does not exist is a 200 whose body holds only `errors` (`resource-not-found`); rate limits are
`x-rate-limit-limit/-remaining/-reset` (epoch seconds) and 429 `Too Many Requests`.

Search: `/2/tweets/search/recent` reaches back 7 days from now (the sandbox clock): without
`start_time` it searches those 7 days, and an older `start_time` is a 400 `invalid-request` problem
naming `start_time`. `/2/tweets/search/all` (full archive, Pro/Enterprise access) takes any
`start_time` (without one: the 30 days before `end_time` or now) and `max_results` 10-500. Both
understand only `conversation_id:<id>` queries.

What it does not: per-endpoint rate windows (the sandbox has one window per network; search/all's
1 request per second is not enforced), access tiers (every token may use search/all), and the
3,200-post cap of user timelines. Protected users' posts are served as to a follower (the token of
a registered person who consented).
"""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pandas as pd

from sandbox.dialects.common import (
    TAG_RE,
    BadRequest,
    NetworkDialect,
    Reply,
    bisect_left,
    bisect_right,
    iso_ms,
)
from sandbox.index import Timeline, WorldIndex

TWEPOCH_MS = 1_288_834_974_657  # X's snowflake epoch
PROBLEMS = "https://api.twitter.com/2/problems/"
ID_RE = re.compile(r"^[0-9]{1,19}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
CONVERSATION_RE = re.compile(r"^conversation_id:([0-9]{1,19})$")
DAY_MS = 86_400_000
RECENT_DAYS = 7  # search/recent's horizon
ARCHIVE_DEFAULT_DAYS = 30  # search/all without start_time

TWEET_DEFAULT = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULT = ("id", "name", "username")
TWEET_FIELDS = {
    "attachments", "author_id", "context_annotations", "conversation_id", "created_at", "display_text_range",
    "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
    "non_public_metrics", "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics",
    "public_metrics", "referenced_tweets", "reply_settings", "source", "text", "withheld",
}  # fmt: skip
USER_FIELDS = {
    "affiliation", "connection_status", "created_at", "description", "entities", "id", "location",
    "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected",
    "public_metrics", "receives_your_dm", "subscription_type", "url", "username", "verified", "verified_type",
    "withheld",
}  # fmt: skip
EXPANSIONS = {"author_id", "entities.mentions.username", "in_reply_to_user_id", "referenced_tweets.id.author_id"}


class X:
    def __init__(self, index: WorldIndex):
        self.ix = index
        self.mentions_of = _mention_timelines(index)

    # ------------------------------------------------------------------ routing

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        parts = path.strip("/").split("/")[1:]  # after 2/
        if parts[:3] == ["users", "by", "username"] and len(parts) == 4:
            return self.user_by_username(parts[3], query, clock_ms)
        if parts[:1] == ["users"] and len(parts) in (2, 3):
            user_id = _id(parts[1])
            acc = self._account(user_id)
            if acc is None:
                return _not_found("user", "id", user_id)
            if len(parts) == 2:
                return Reply(200, {"data": self.user(acc, query, clock_ms)})
            if parts[2] == "tweets":
                return self.user_tweets(acc, query, clock_ms)
            if parts[2] == "mentions":
                return self.user_mentions(acc, query, clock_ms)
        if parts == ["tweets", "search", "recent"]:
            return self.search(query, clock_ms, archive=False)
        if parts == ["tweets", "search", "all"]:
            return self.search(query, clock_ms, archive=True)
        if parts[:1] == ["tweets"] and len(parts) == 3:
            tweet_id = _id(parts[1])
            post = self.ix.post(tweet_id, clock_ms)
            if post is None or post["network"] != "x":
                return _not_found("tweet", "id", tweet_id)
            if parts[2] == "liking_users":
                return self.reactors(post, "like", query, clock_ms)
            if parts[2] == "retweeted_by":
                return self.reactors(post, "retweet", query, clock_ms)
            if parts[2] == "quote_tweets":
                return self.quote_tweets(post, query, clock_ms)
        return Reply(
            404,
            {
                "title": "Not Found Error",
                "detail": "Sorry, that page does not exist",
                "type": "about:blank",
                "status": 404,
            },
        )

    def _account(self, account_id: str) -> dict | None:
        acc = self.ix.account_by_id.get(account_id)
        return acc if acc and acc["network"] == "x" else None

    # ------------------------------------------------------------------ objects

    def user(self, acc: dict, query: dict, clock_ms: int) -> dict:
        wanted = _fields(query, "user.fields", USER_FIELDS)
        posts, last_ms = self.ix.statuses_count(acc, clock_ms)
        full = {
            "id": acc["account_id"],
            "name": acc["display_name"],
            "username": acc["handle"],
            "created_at": iso_ms(int(acc["created_at"].value // 1_000_000)),
            "description": f"{acc['display_name']} on the sandbox. #sandbox",
            "protected": bool(acc["is_private"]),
            "verified": False,
            "verified_type": "none",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{acc['account_id']}/sandbox_normal.jpg",
            "url": "",
            "public_metrics": {
                "followers_count": int(acc["followers_count"]),
                "following_count": int(acc["following_count"]),
                "tweet_count": posts,
                "listed_count": int(acc["followers_count"]) // 50,
                "like_count": int(acc["base_statuses"]) * 3,
            },
        }
        tl = self.ix.account_posts(acc["account_id"])
        visible = tl.visible(clock_ms)
        if visible:
            full["most_recent_tweet_id"] = self.ix.posts.post_id.iat[int(tl.rows[visible - 1])]
        return {k: v for k, v in full.items() if k in USER_DEFAULT or k in wanted}

    def tweet(self, post: dict, query: dict, clock_ms: int, wanted: set[str] | None = None) -> dict:
        wanted = _fields(query, "tweet.fields", TWEET_FIELDS) if wanted is None else wanted
        pid, text = post["post_id"], post["text"]
        parent = self.ix.post(post["reply_to_post_id"], 2**62) if post["reply_to_post_id"] else None
        counts = {w: self.ix.count(pid, w, clock_ms) for w in ("like", "retweet", "reply", "quote", "bookmark")}
        full = {
            "id": pid,
            "text": text,
            "edit_history_tweet_ids": [pid],
            "author_id": post["account_id"],
            "created_at": iso_ms(post["ms"]),
            "conversation_id": (parent["post_id"] if parent else pid),
            "lang": "en",
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "edit_controls": {
                "edits_remaining": 5,
                "is_edit_eligible": True,
                "editable_until": iso_ms(post["ms"] + 3_600_000),
            },
            "public_metrics": {
                "retweet_count": counts["retweet"],
                "reply_count": counts["reply"],
                "like_count": counts["like"],
                "quote_count": counts["quote"],
                "bookmark_count": counts["bookmark"],
                # the world has no viewers: views follow what the post drew, never fewer later
                "impression_count": 40 * sum(counts.values()) + int(pid) % 97,
            },
        }
        entities = self._entities(post)
        if entities:
            full["entities"] = entities
        refs = []
        if parent:
            refs.append({"type": "replied_to", "id": parent["post_id"]})
            full["in_reply_to_user_id"] = parent["account_id"]
        if post["quote_of_post_id"]:
            refs.append({"type": "quoted", "id": post["quote_of_post_id"]})
        if refs:
            full["referenced_tweets"] = refs
        return {k: v for k, v in full.items() if k in TWEET_DEFAULT or k in wanted}

    def _entities(self, post: dict) -> dict:
        text, out = post["text"], {}
        mentions = []
        for account_id in post["mentions"]:
            handle = self.ix.account_by_id[account_id]["handle"]
            start = text.find("@" + handle)
            if start >= 0:
                mentions.append({"start": start, "end": start + len(handle) + 1, "username": handle, "id": account_id})
        if mentions:
            out["mentions"] = mentions
        tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in TAG_RE.finditer(text)]
        if tags:
            out["hashtags"] = tags
        return out

    def _with_includes(self, body: dict, posts: list[dict], query: dict, clock_ms: int) -> dict:
        """`includes.users` for the expansions asked for, each user once."""
        expansions = _list(query.get("expansions"))
        unknown = [e for e in expansions if e not in EXPANSIONS]
        if unknown:
            raise BadRequest(
                f"The `expansions` query parameter value [{unknown[0]}] is not one of {sorted(EXPANSIONS)}"
            )
        ids: list[str] = []
        for post in posts:
            if "author_id" in expansions:
                ids.append(post["account_id"])
            if "entities.mentions.username" in expansions:
                ids.extend(post["mentions"])
            if "in_reply_to_user_id" in expansions and post["reply_to_post_id"]:
                ids.append(self.ix.post(post["reply_to_post_id"], 2**62)["account_id"])
        users = [self.user(self.ix.account_by_id[i], query, clock_ms) for i in dict.fromkeys(ids)]
        if users:
            body["includes"] = {"users": users}
        return body

    # ------------------------------------------------------------------ endpoints

    def user_by_username(self, username: str, query: dict, clock_ms: int) -> Reply:
        if not USERNAME_RE.match(username):
            raise BadRequest(f"The `username` query parameter value [{username}] does not match ^[A-Za-z0-9_]{{1,15}}$")
        acc = self.ix.account_by_handle.get(("x", username.lower()))
        if acc is None:
            return _not_found("user", "username", username)
        return Reply(200, {"data": self.user(acc, query, clock_ms)})

    def _post_page(self, tl: Timeline, query: dict, clock_ms: int, lo_hi=None, *, low: int, high: int, default: int,
                   keep=None) -> tuple[list[dict], dict]:  # fmt: skip
        """Newest first from a post timeline (keys: post ids as ints); (posts, meta)."""
        size = _max_results(query, low, high, default)
        n = tl.visible(clock_ms)
        lo, hi = lo_hi if lo_hi else (0, n)
        hi = min(hi, n)
        for name in ("since_id",):
            if query.get(name):
                lo = max(lo, bisect_right(tl.keys, int(_id(query[name], name))))
        if query.get("until_id"):
            hi = min(hi, bisect_left(tl.keys, int(_id(query["until_id"], "until_id"))))
        if query.get("start_time"):
            lo = max(lo, int(np.searchsorted(tl.ms, _time_ms(query, "start_time"), side="left")))
        if query.get("end_time"):
            hi = min(hi, int(np.searchsorted(tl.ms, _time_ms(query, "end_time"), side="left")))
        token = query.get("pagination_token") or query.get("next_token")
        if token:
            hi = min(hi, bisect_left(tl.keys, _untoken(token)))
        posts, i = [], hi - 1
        while i >= lo and len(posts) < size:
            post = self.ix.post_at(int(tl.rows[i]))
            if keep is None or keep(post):
                posts.append(post)
            i -= 1
        meta: dict = {"result_count": len(posts)}
        if posts:
            meta = {"newest_id": posts[0]["post_id"], "oldest_id": posts[-1]["post_id"], **meta}
            if i >= lo:
                meta["next_token"] = _token(int(posts[-1]["post_id"]))
        return posts, meta

    def _posts_reply(self, posts: list[dict], meta: dict, query: dict, clock_ms: int) -> Reply:
        wanted = _fields(query, "tweet.fields", TWEET_FIELDS)
        body: dict = {}
        if posts:
            body["data"] = [self.tweet(p, query, clock_ms, wanted) for p in posts]
            self._with_includes(body, posts, query, clock_ms)
        body["meta"] = meta
        return Reply(200, body)

    def user_tweets(self, acc: dict, query: dict, clock_ms: int) -> Reply:
        exclude = set(_list(query.get("exclude")))
        if exclude - {"replies", "retweets"}:
            raise BadRequest(
                f"The `exclude` query parameter value [{query['exclude']}] is not one of [replies, retweets]"
            )
        keep = (lambda p: not p["reply_to_post_id"]) if "replies" in exclude else None  # noqa: E731
        tl = self.ix.account_posts(acc["account_id"])
        posts, meta = self._post_page(tl, query, clock_ms, low=5, high=100, default=10, keep=keep)
        return self._posts_reply(posts, meta, query, clock_ms)

    def user_mentions(self, acc: dict, query: dict, clock_ms: int) -> Reply:
        tl = self.mentions_of.get(acc["account_id"], _EMPTY)
        posts, meta = self._post_page(tl, query, clock_ms, low=5, high=100, default=10)
        return self._posts_reply(posts, meta, query, clock_ms)

    def quote_tweets(self, post: dict, query: dict, clock_ms: int) -> Reply:
        posts, meta = self._post_page(self.ix.quotes(post["post_id"]), query, clock_ms, low=10, high=100, default=10)
        meta.pop("newest_id", None), meta.pop("oldest_id", None)
        return self._posts_reply(posts, meta, query, clock_ms)

    def search(self, query: dict, clock_ms: int, *, archive: bool) -> Reply:
        """A conversation's posts, newest first: search/recent within its 7 days, search/all
        (`archive`) over the whole history."""
        text = (query.get("query") or "").strip()
        if not text:
            raise BadRequest("The `query` query parameter can not be empty")
        found = CONVERSATION_RE.match(text)
        if not found:
            raise BadRequest(
                f"The `query` query parameter value [{text}] is not supported by the sandbox (conversation_id:<id>)"
            )
        high = 500 if archive else 100
        _max_results(query, 10, high, 10)
        end_ms = _time_ms(query, "end_time") if query.get("end_time") else clock_ms
        if archive:
            floor = end_ms - ARCHIVE_DEFAULT_DAYS * DAY_MS
        else:
            floor = clock_ms - RECENT_DAYS * DAY_MS
            if query.get("start_time") and _time_ms(query, "start_time") < floor:
                raise BadRequest(
                    f"Invalid 'start_time':'{query['start_time']}'. 'start_time' must be on or after "
                    + pd.Timestamp(floor, unit="ms").strftime("%Y-%m-%dT%H:%MZ")
                )
        if query.get("start_time"):
            floor = _time_ms(query, "start_time")
        root = self.ix.post(found.group(1), clock_ms)
        if root is None or root["network"] != "x" or root["reply_to_post_id"]:
            return self._posts_reply([], {"result_count": 0}, query, clock_ms)
        replies = self.ix.replies(root["post_id"])
        # the conversation: its replies and, oldest of all, the root post itself
        row = self.ix.post_row[root["post_id"]]
        tl = Timeline(
            np.concatenate([[root["ms"]], replies.ms]),
            np.concatenate([[int(root["post_id"])], replies.keys.astype(np.int64)]),
            np.concatenate([[row], replies.rows]),
        )
        lo = int(np.searchsorted(tl.ms, floor, side="left"))
        posts, meta = self._post_page(tl, query, clock_ms, (lo, len(tl.ms)), low=10, high=high, default=10)
        return self._posts_reply(posts, meta, query, clock_ms)

    def reactors(self, post: dict, rtype: str, query: dict, clock_ms: int) -> Reply:
        size = _max_results(query, 1, 100, 100)
        tl = self.ix.reactions_of(post["post_id"], rtype)
        hi = tl.visible(clock_ms)
        if query.get("pagination_token"):
            hi = min(hi, bisect_left(tl.keys, _untoken(query["pagination_token"])))
        lo = max(0, hi - size)
        reactor_ids = self.ix.reactions.reactor_account_id.to_numpy()
        users = [self.user(self.ix.account_by_id[reactor_ids[r]], query, clock_ms) for r in tl.rows[lo:hi][::-1]]
        meta: dict = {"result_count": len(users)}
        if lo > 0 and users:
            meta["next_token"] = _token(int(tl.keys[lo]))
        body: dict = {"data": users} if users else {}
        body["meta"] = meta
        return Reply(200, body)


# ---------------------------------------------------------------------- parameters and problems


def _id(raw: str, name: str = "id") -> str:
    if not ID_RE.match(raw or ""):
        raise BadRequest(f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
    return raw


def _list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _fields(query: dict, name: str, known: set[str]) -> set[str]:
    asked = _list(query.get(name))
    unknown = [f for f in asked if f not in known]
    if unknown:
        raise BadRequest(f"The `{name}` query parameter value [{unknown[0]}] is not one of {sorted(known)}")
    return set(asked)


def _max_results(query: dict, low: int, high: int, default: int) -> int:
    raw = query.get("max_results")
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"The `max_results` query parameter value [{raw}] is not between {low} and {high}")
    return int(raw)


def _time_ms(query: dict, name: str) -> int:
    try:
        return int(pd.Timestamp(query[name]).tz_convert("UTC").value // 1_000_000)
    except (ValueError, TypeError):
        raise BadRequest(f"Invalid '{name}':'{query[name]}'. '{name}' must be a valid RFC 3339 timestamp") from None


def _token(key: int) -> str:
    """An opaque page token (X's look like `7140dibdnow9c7btw4232poeq0wapgnwgwqwvuwn3peex`)."""
    return base64.b32encode(f"sbx:{key}".encode()).decode().lower().rstrip("=")


def _untoken(token: str) -> int:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        kind, _, key = base64.b32decode(padded).decode().partition(":")
        if kind != "sbx":
            raise ValueError(token)
        return int(key)
    except ValueError:
        raise BadRequest(f"The `pagination_token` query parameter value [{token}] is not valid") from None


def _not_found(resource: str, parameter: str, value: str) -> Reply:
    """X answers a missing user or post with 200 and a body holding only `errors`."""
    return Reply(
        200,
        {
            "errors": [
                {
                    "value": value,
                    "detail": f"Could not find {resource} with {parameter}: [{value}].",
                    "title": "Not Found Error",
                    "resource_type": resource,
                    "parameter": parameter,
                    "resource_id": value,
                    "type": PROBLEMS + "resource-not-found",
                }
            ]
        },
    )


_TITLES = {"RateLimitExceeded": (429, "Too Many Requests"), "InternalServerError": (503, "Service Unavailable")}


def _error_body(code: str, message: str) -> dict:
    """RFC 7807 problems: `invalid-request` (with the offending parameter) or `about:blank`."""
    if code == "InvalidRequest":
        param = re.search(r"`([^`]+)`", message)
        value = re.search(r"\[([^\]]*)\]", message)
        parameters = {param.group(1): [value.group(1) if value else ""]} if param else {}
        quoted = re.match(r"Invalid '([^']+)':'([^']*)'", message)  # X's wording for times
        if quoted:
            parameters = {quoted.group(1): [quoted.group(2)]}
        return {
            "errors": [{"parameters": parameters, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        }
    status, title = _TITLES.get(code, (500, "Internal Server Error"))
    return {
        "title": title,
        "detail": message if code not in _TITLES else title,
        "type": "about:blank",
        "status": status,
    }


def _rate_headers(limit: int, remaining: int, reset_epoch: float, window_s: float) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(math.ceil(reset_epoch)),
    }


_EMPTY = Timeline(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))


def _mention_timelines(ix: WorldIndex) -> dict[str, Timeline]:
    """Posts on X mentioning each account, in time order (the /mentions timeline)."""
    posts = ix.posts
    mine = posts.index[(posts.network == "x") & (posts.mentions.map(len) > 0)]
    exploded = posts.loc[mine, "mentions"].explode()
    if exploded.empty:
        return {}
    rows = exploded.index.to_numpy()
    keys = np.array([int(p) for p in posts.post_id.to_numpy()[rows]], dtype=np.int64)
    return WorldIndex._timelines(pd.Series(exploded.to_numpy()), ix.post_ms[rows], keys, rows)


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """Numeric ids; usernames of at most 15 of [a-z0-9_] (name cut to fit its unique number); some protected."""
    account_id = pd.Series(1_300_000_000_000_000_000 + (numbers + 1) * 104_729).astype(str)
    parts = stems.str.replace(r"[^a-z0-9]", "", regex=True).str.extract(r"^(\D*)(\d+)$")
    handles = pd.Series(
        [name[: 15 - len(num)] + num for name, num in zip(parts[0], parts[1])], index=stems.index, dtype=object
    )
    return account_id, handles, rng.random(len(numbers)) < private_share


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """Snowflakes: milliseconds since X's epoch, then the day's bits and the rank within the day."""
    return (
        (((ms.astype(np.int64) - TWEPOCH_MS) << 22) | (day_bits << 19) | (rank % (1 << 19))).astype(str).astype(object)
    )


DIALECT = NetworkDialect(
    name="x",
    joined=3,
    path_prefix="/2/",
    handler=X,
    invalid_status=400,
    error_body=_error_body,
    rate_headers=_rate_headers,
    reaction_mix=(("like", 0.58), ("retweet", 0.16), ("reply", 0.12), ("quote", 0.09), ("bookmark", 0.05)),
    anonymous=("bookmark",),  # bookmark_count only: who bookmarks is private
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=int,
    adoption=0.6,
    posts_rate=1.5,
    reactions_rate=1.2,
)
