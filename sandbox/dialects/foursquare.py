"""Foursquare API v2 (`/v2/...`), the user endpoints read with the owner's own token, as the
sandbox serves them.

Only a person's own data is readable: `users/self` (counts), `users/self/checkins` (newest
first, `limit` <= 250 and `offset`, `afterTimestamp` / `beforeTimestamp` in epoch seconds) and
`lists/self/tips` (the user's tips list, newest first, `limit` <= 200 and `offset`); the people
behind a check-in's likes (`checkins/:id/likes`, no time) and comments (`checkins/:id`, each with
`createdAt`), and a tip's likes (`tips/:id/likes`). A tip's to-dos and dones are counts only.

A world post is a tip or a check-in by its id (one in five is a tip); the world's reactions are
settled to what each can carry: a check-in has likes, comments and shout mentions (`entities`), a
tip has likes, to-dos and dones.

Every request needs `v=YYYYMMDD` (else 400 `param_error`) and `oauth_token`, a token the
sandbox's token store issued to a person who connected Foursquare (`/_sandbox/tokens/foursquare`);
anything else is 401 `invalid_auth`. Answers are `{"meta": {"code", "requestId"},
"notifications", "response"}`; errors carry `meta.errorType` / `meta.errorDetail`. Rate limits:
`X-RateLimit-Limit` / `X-RateLimit-Remaining` / `X-RateLimit-Reset` (epoch seconds), and a spent
window is 403 `rate_limit_exceeded`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import numpy as np
import pandas as pd

from sandbox.dialects.common import NetworkDialect, Reply, int_param
from sandbox.index import WorldIndex

PREFIX = "/v2/"
_MIX = 0x9E3779B97F4A7C15  # odd: a bijection mod 2**64, so ids look random and never collide
_MASK = 2**64 - 1
_V = re.compile(r"^\d{8}$")
CHECKIN_LIMIT, TIPS_LIMIT = 250, 200


def is_tip(post_id: str) -> bool:
    """One post in five is a tip (by its id, so the world and the server agree)."""
    return int(post_id[-4:], 16) % 5 == 0


def issued_token(account_id: str) -> str:
    """The token the sandbox's store issues to a person for their account (48 characters)."""
    return hashlib.blake2b(f"fsq-sandbox|{account_id}".encode(), digest_size=24).hexdigest().upper()


def person_tokens(world) -> dict[str, str]:
    """Handle -> token of every registered person who linked Foursquare."""
    links = world.profile_links[world.profile_links.network == "foursquare"]
    return {h: issued_token(a) for h, a in zip(links.handle, links.account_id)}


def _meta(code: int, request_id: str, error_type: str | None = None, detail: str | None = None) -> dict:
    meta = {"code": code, "requestId": request_id}
    if error_type:
        meta |= {"errorType": error_type, "errorDetail": detail}
    return meta


def _request_id(*parts: object) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=12).hexdigest()


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, detail: str):
        super().__init__(detail)
        self.reply = Reply(
            status, {"meta": _meta(status, _request_id(error_type, detail), error_type, detail), "response": {}}
        )


_GENERIC = {  # the server's generic codes -> (status, errorType)
    "RateLimitExceeded": (403, "rate_limit_exceeded"),
    "InternalServerError": (500, "server_error"),
    "InvalidRequest": (400, "param_error"),
}


def _error_body(code: str, message: str) -> dict:
    status, error_type = _GENERIC.get(code, (400, "other"))
    return {"meta": _meta(status, _request_id(code, message), error_type, message), "response": {}}


def _rate_headers(limit: int, remaining: int, reset_epoch: float, window_s: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset_epoch) + 1),  # whole seconds, never before the real reset
    }


def _throttled(reset_in: float, variant: int | None) -> Reply:
    """403 `rate_limit_exceeded`; a spent window also says when it renews (an injected throttle
    is a momentary refusal: no headers)."""
    import time

    body = _error_body("RateLimitExceeded", "Quota exceeded")
    if variant is not None:
        return Reply(403, body)
    return Reply(403, body, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time() + reset_in) + 1)})


def _seconds(ms: int) -> int:
    return int(ms // 1000)


class Foursquare:
    def __init__(self, index: WorldIndex):
        self.ix = index
        self.owner_of_token = {
            issued_token(a): a
            for a in index.world.profile_links.loc[index.world.profile_links.network == "foursquare", "account_id"]
        }
        self.reactors = index.reactions.reactor_account_id.to_numpy()

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        try:
            if not query.get("v"):
                raise ApiError(400, "param_error", "Missing required parameter v (a version date, YYYYMMDD)")
            if not _V.match(query["v"]) or not _valid_date(query["v"]):
                raise ApiError(400, "param_error", f"Value {query['v']} is invalid for parameter v")
            owner = self.owner_of_token.get(query.get("oauth_token") or "")
            if owner is None:
                raise ApiError(401, "invalid_auth", "OAuth token invalid or revoked.")
            parts = path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["users", "self"]:
                body = {"user": self._self(owner, clock_ms)}
            elif parts == ["users", "self", "checkins"]:
                body = {"checkins": self._checkins(owner, query, clock_ms)}
            elif parts == ["lists", "self", "tips"]:
                body = {"list": self._tips(owner, query, clock_ms)}
            elif len(parts) == 2 and parts[0] == "checkins":
                body = {"checkin": self._checkin_detail(self._post(parts[1], "checkin", clock_ms), clock_ms)}
            elif len(parts) == 3 and parts[0] in ("checkins", "tips") and parts[2] == "likes":
                kind = parts[0].removesuffix("s")
                body = {"likes": self._likes(self._post(parts[1], kind, clock_ms), clock_ms, full=True)}
            else:
                raise ApiError(404, "endpoint_error", "Endpoint not found")
        except ApiError as exc:
            return exc.reply
        meta = _meta(200, _request_id(path, owner, clock_ms))
        return Reply(
            200,
            {
                "meta": meta,
                "notifications": [{"type": "notificationTray", "item": {"unreadCount": 0}}],
                "response": body,
            },
        )

    # --- users

    def _user(self, account_id: str) -> dict:
        acc = self.ix.account_by_id[account_id]
        first, _, last = acc["display_name"].partition(" ")
        return {
            "id": account_id,
            "firstName": first,
            "lastName": last,
            "handle": acc["handle"],
            "gender": "none",
            "photo": {"prefix": "https://fastly.4sqi.net/img/user/", "suffix": f"/{account_id}.jpg"},
        }

    def _self(self, owner: str, clock_ms: int) -> dict:
        acc = self.ix.account_by_id[owner]
        rows = self._visible(owner, clock_ms)
        tips = sum(is_tip(self.ix.post_at(int(r))["post_id"]) for r in rows)
        return {
            **self._user(owner),
            "relationship": "self",
            "canonicalUrl": f"https://foursquare.com/{acc['handle']}",
            "type": "user",
            "homeCity": "Sandbox",
            "bio": "",
            "contact": {
                "email": f"{acc['handle']}@example.invalid",
                "phone": "5550100",
            },  # the owner's own: never landed
            "friends": {
                "count": int(acc["followers_count"]),
                "groups": [{"type": "friends", "name": "Mutual friends", "count": 0, "items": []}],
            },
            "checkins": {"count": int(acc["base_statuses"]) + len(rows) - tips, "items": []},
            "tips": {"count": tips},
            "lists": {"count": 1},
            "createdAt": _seconds(int(acc["created_at"].value // 1_000_000)),
        }

    # --- check-ins and tips

    def _visible(self, owner: str, clock_ms: int) -> np.ndarray:
        tl = self.ix.account_posts(owner)
        return tl.rows[: tl.visible(clock_ms)]

    def _posts(self, owner: str, clock_ms: int, tips: bool) -> list[dict]:
        """The owner's check-ins (or tips) visible at the clock, newest first."""
        posts = [self.ix.post_at(int(r)) for r in self._visible(owner, clock_ms)[::-1]]
        return [p for p in posts if is_tip(p["post_id"]) == tips]

    def _checkins(self, owner: str, query: dict, clock_ms: int) -> dict:
        limit = int_param(query, "limit", 20, 1, CHECKIN_LIMIT)
        offset = int_param(query, "offset", 0, 0, 10**9)
        after = int_param(query, "afterTimestamp", -1, -1, 10**12)
        before = int_param(query, "beforeTimestamp", 10**12, 0, 10**12)
        if query.get("sort", "newestfirst") not in ("newestfirst", "oldestfirst"):
            raise ApiError(400, "param_error", f"Value {query['sort']} is invalid for parameter sort")
        posts = [p for p in self._posts(owner, clock_ms, tips=False) if after < _seconds(p["ms"]) < before]
        if query.get("sort") == "oldestfirst":
            posts = posts[::-1]
        return {"count": len(posts), "items": [self._checkin(p, clock_ms) for p in posts[offset : offset + limit]]}

    def _tips(self, owner: str, query: dict, clock_ms: int) -> dict:
        limit = int_param(query, "limit", 20, 1, TIPS_LIMIT)
        offset = int_param(query, "offset", 0, 0, 10**9)
        posts = self._posts(owner, clock_ms, tips=True)
        items = [
            {"id": "t" + p["post_id"], "createdAt": _seconds(p["ms"]), "tip": self._tip(p, clock_ms)}
            for p in posts[offset : offset + limit]
        ]
        return {
            "id": f"{owner}/tips",
            "name": "My Tips",
            "type": "tips",
            "user": self._user(owner),
            "listItems": {"count": len(posts), "items": items},
        }

    def _venue(self, post: dict) -> dict:
        slug = post["topic_slug"]
        return {
            "id": _request_id("venue", slug)[:24],
            "name": slug.replace("-", " ").title() + " Place",
            "location": {"city": "Sandbox", "cc": "XX"},
            "categories": [{"id": _request_id("category", slug)[:24], "name": slug, "primary": True}],
        }

    def _checkin(self, post: dict, clock_ms: int) -> dict:
        """A check-in as `users/self/checkins` lists it: likes and comments as counts."""
        shout = post["text"]
        entities = []
        for account_id in post["mentions"]:
            handle = "@" + self.ix.account_by_id[account_id]["handle"]
            at = shout.find(handle)
            if at >= 0:
                entities.append({"indices": [at, at + len(handle)], "type": "user", "id": account_id})
        return {
            "id": post["post_id"],
            "createdAt": _seconds(post["ms"]),
            "type": "checkin",
            "timeZoneOffset": 0,
            "shout": shout,
            "entities": entities,
            "venue": self._venue(post),
            "likes": self._likes(post, clock_ms, full=False),
            "like": False,
            "comments": {"count": self.ix.count(post["post_id"], "comment", clock_ms)},
            "photos": {"count": 0, "items": []},
            "source": {"name": "Swarm for iOS", "url": "https://www.swarmapp.com"},
        }

    def _checkin_detail(self, post: dict, clock_ms: int) -> dict:
        """`checkins/:id`: every comment, oldest first, each with its time."""
        tl = self.ix.reactions_of(post["post_id"], "comment")
        rows = tl.rows[: tl.visible(clock_ms)]
        comments = [
            {
                "id": _request_id("comment", int(self.ix.reactions.seq.iat[r]))[:24],
                "createdAt": _seconds(int(self.ix.reaction_ms[r])),
                "user": self._user(self.reactors[r]),
                "text": f"Nice spot for {post['topic_slug'].replace('-', ' ')}!",
            }
            for r in rows
        ]
        return {
            **self._checkin(post, clock_ms),
            "likes": self._likes(post, clock_ms, full=True),
            "comments": {"count": len(comments), "items": comments},
        }

    def _tip(self, post: dict, clock_ms: int) -> dict:
        pid = post["post_id"]
        return {
            "id": pid,
            "createdAt": _seconds(post["ms"]),
            "text": post["text"],
            "canonicalUrl": f"https://foursquare.com/item/{pid}",
            "likes": self._likes(post, clock_ms, full=False),
            "like": False,
            "todo": {"count": self.ix.count(pid, "todo", clock_ms)},
            "done": {"count": self.ix.count(pid, "done", clock_ms)},
            "venue": self._venue(post),
        }

    def _likes(self, post: dict, clock_ms: int, full: bool) -> dict:
        """`{count, groups, summary}`; a listed post's groups are empty, its `likes` endpoint names
        everyone (the owner sees all their likers), most recent first. No like has a time."""
        tl = self.ix.reactions_of(post["post_id"], "like")
        rows = tl.rows[: tl.visible(clock_ms)][::-1]
        likes = {"count": len(rows), "groups": []}
        if full and len(rows):
            users = [self._user(self.reactors[r]) for r in rows]
            likes["groups"] = [{"type": "others", "name": "Others", "count": len(users), "items": users}]
        if len(rows):
            likes["summary"] = f"{len(rows)} like" + ("s" if len(rows) != 1 else "")
        return likes

    def _post(self, post_id: str, kind: str, clock_ms: int) -> dict:
        post = self.ix.post(post_id, clock_ms)
        if post is None or post["network"] != "foursquare" or is_tip(post_id) != (kind == "tip"):
            raise ApiError(400, "param_error", f"Value {post_id} is invalid for {kind} id")
        return post


def _valid_date(raw: str) -> bool:
    try:
        date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return False
    return True


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """Numeric user ids; no private flag (the owner's own token reads everything of theirs)."""
    ids = 10_000_000 + np.asarray(numbers, dtype=np.int64) * 1_000 + rng.integers(0, 1_000, len(numbers))
    return pd.Series(ids.astype(str)).astype(object), stems, np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """24 hex characters like Foursquare's: the creation second, then a scrambled sequence."""
    seconds = (ms // 1000).astype(np.uint64)
    low = ((ms % 1000).astype(np.uint64) << np.uint64(32)) | (rank.astype(np.uint64) << np.uint64(3))
    low = (low | np.uint64(day_bits)) * np.uint64(_MIX)  # wraps mod 2**64
    return np.array([f"{int(s):08x}{int(x):016x}" for s, x in zip(seconds, low)], dtype=object)


def _settled(posts: pd.DataFrame, reactions: pd.DataFrame) -> pd.DataFrame:
    """What each kind of post can carry: a check-in likes, comments and mentions; a tip likes,
    to-dos and dones."""
    tip = reactions.post_id.map(is_tip).to_numpy(dtype=bool)
    word = reactions.reaction_type.to_numpy()
    keep = np.where(tip, np.isin(word, ["like", "todo", "done"]), np.isin(word, ["like", "comment", "mention"]))
    return reactions[keep]


DIALECT = NetworkDialect(
    name="foursquare",
    joined=10,
    path_prefix=PREFIX,
    handler=Foursquare,
    invalid_status=400,
    error_body=_error_body,
    rate_headers=_rate_headers,
    reaction_mix=(("like", 0.55), ("comment", 0.3), ("todo", 0.05), ("done", 0.1)),
    anonymous=("todo", "done"),  # a tip's counts: nobody is named
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=lambda post_id: post_id,
    adoption=0.4,
    posts_rate=1.0,
    reactions_rate=2.0,
    throttle_reply=_throttled,
    settle_reactions=_settled,
    public_accounts=False,  # only the owner's own token reads their check-ins
    person_tokens=person_tokens,
)
