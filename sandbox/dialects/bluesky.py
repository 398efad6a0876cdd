"""Bluesky AppView XRPC (`app.bsky.*` lexicons), as the sandbox serves it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sandbox.dialects.common import (
    B32_SORT,
    TAG_RE,
    BadRequest,
    NetworkDialect,
    Reply,
    bisect_left,
    int_param,
    iso_ms,
    random_strings,
)
from sandbox.index import WorldIndex

# --------------------------------------------------------------------------- Bluesky AppView


class Bluesky:
    def __init__(self, index: WorldIndex):
        self.ix = index

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        nsid = path.removeprefix("/xrpc/")
        handler = {
            "app.bsky.actor.getProfile": self.get_profile,
            "app.bsky.feed.getAuthorFeed": self.get_author_feed,
            "app.bsky.feed.getLikes": self.get_likes,
            "app.bsky.feed.getRepostedBy": self.get_reposted_by,
            "app.bsky.feed.getPostThread": self.get_post_thread,
            "app.bsky.feed.getQuotes": self.get_quotes,
        }.get(nsid)
        if handler is None:
            return Reply(501, {"error": "MethodNotImplemented", "message": f"Method Not Implemented: {nsid}"})
        return handler(query, clock_ms)

    def _actor(self, query: dict) -> dict:
        actor = query.get("actor")
        if not actor:
            raise BadRequest('Params must have the property "actor"')
        acc = (
            self.ix.account_by_id.get(actor)
            if actor.startswith("did:")
            else self.ix.account_by_handle.get(("bluesky", actor))
        )
        if acc is None or acc["network"] != "bluesky":
            raise BadRequest("Profile not found")
        return acc

    def _uri(self, query: dict) -> str:
        uri = query.get("uri")
        if not uri:
            raise BadRequest('Params must have the property "uri"')
        return uri

    def profile_basic(self, acc: dict) -> dict:
        return {
            "did": acc["account_id"],
            "handle": acc["handle"],
            "displayName": acc["display_name"],
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{acc['account_id']}/sandbox@jpeg",
            "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": iso_ms(int(acc["created_at"].value // 1_000_000)),
        }

    def profile_view(self, acc: dict) -> dict:
        view = self.profile_basic(acc)
        view["description"] = f"{acc['display_name']} on the sandbox."
        view["indexedAt"] = view["createdAt"]
        return view

    def get_profile(self, query, clock_ms) -> Reply:
        acc = self._actor(query)
        posts, _ = self.ix.statuses_count(acc, clock_ms)
        view = self.profile_view(acc)
        view.update(
            {
                "followersCount": int(acc["followers_count"]),
                "followsCount": int(acc["following_count"]),
                "postsCount": posts,
            }
        )
        return Reply(200, view)

    def record(self, post: dict, clock_ms: int) -> dict:
        text = post["text"]
        facets = []
        for did in post["mentions"]:
            token = "@" + self.ix.account_by_id[did]["handle"]
            facets.append(_facet(text, token, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
        for tag in TAG_RE.findall(text):
            facets.append(_facet(text, "#" + tag, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
        record = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": iso_ms(post["ms"]),
            "langs": ["en"],
            "facets": [f for f in facets if f],
        }
        if post["reply_to_post_id"]:
            parent = self.ix.post(post["reply_to_post_id"], 2**62)
            ref = {"uri": parent["post_id"], "cid": parent["cid"]}
            record["reply"] = {"root": ref, "parent": ref}
        if post["quote_of_post_id"]:
            quoted = self.ix.post(post["quote_of_post_id"], 2**62)
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted["post_id"], "cid": quoted["cid"]},
            }
        return record

    def post_view(self, post: dict, clock_ms: int, embed_quote: bool = True) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        pid = post["post_id"]
        view = {
            "uri": pid,
            "cid": post["cid"],
            "author": self.profile_basic(acc),
            "record": self.record(post, clock_ms),
            "bookmarkCount": 0,
            "replyCount": self.ix.count(pid, "reply", clock_ms),
            "repostCount": self.ix.count(pid, "repost", clock_ms),
            "likeCount": self.ix.count(pid, "like", clock_ms),
            "quoteCount": self.ix.count(pid, "quote", clock_ms),
            "indexedAt": iso_ms(post["ms"]),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        if post["quote_of_post_id"] and embed_quote:
            quoted = self.ix.post(post["quote_of_post_id"], clock_ms)
            view["embed"] = {
                "$type": "app.bsky.embed.record#view",
                "record": {
                    "$type": "app.bsky.embed.record#viewRecord",
                    "uri": quoted["post_id"],
                    "cid": quoted["cid"],
                    "author": self.profile_basic(self.ix.account_by_id[quoted["account_id"]]),
                    "value": self.record(quoted, clock_ms),
                    "indexedAt": iso_ms(quoted["ms"]),
                    "labels": [],
                    "likeCount": self.ix.count(quoted["post_id"], "like", clock_ms),
                    "replyCount": self.ix.count(quoted["post_id"], "reply", clock_ms),
                    "repostCount": self.ix.count(quoted["post_id"], "repost", clock_ms),
                    "quoteCount": self.ix.count(quoted["post_id"], "quote", clock_ms),
                    "embeds": [],
                },
            }
        return view

    def get_author_feed(self, query, clock_ms) -> Reply:
        acc = self._actor(query)
        limit = int_param(query, "limit", 50, 1, 100)
        tl = self.ix.account_posts(acc["account_id"])
        hi = tl.visible(clock_ms)
        if query.get("cursor"):
            hi = min(hi, bisect_left(tl.keys, query["cursor"]))
        no_replies = query.get("filter") == "posts_no_replies"
        feed, i = [], hi - 1
        while i >= 0 and len(feed) < limit:
            post = self.ix.post_at(int(tl.rows[i]))
            if not (no_replies and post["reply_to_post_id"]):
                item = {"post": self.post_view(post, clock_ms)}
                if post["reply_to_post_id"]:
                    parent = {
                        "$type": "app.bsky.feed.defs#postView",
                        **self.post_view(self.ix.post(post["reply_to_post_id"], clock_ms), clock_ms),
                    }
                    item["reply"] = {"root": parent, "parent": parent}
                feed.append(item)
            i -= 1
        body = {"feed": feed}
        if i >= 0 and feed:
            body["cursor"] = str(tl.keys[i + 1])
        return Reply(200, body)

    def _reaction_page(self, query, clock_ms, rtype):
        """(post, [(row, seq)...] newest first, next cursor or None) for likes/reposts."""
        uri = self._uri(query)
        limit = int_param(query, "limit", 50, 1, 100)
        post = self.ix.post(uri, clock_ms)
        if post is None:
            return None, [], None
        tl = self.ix.reactions_of(uri, rtype)
        hi = tl.visible(clock_ms)
        if query.get("cursor"):
            try:
                hi = min(hi, bisect_left(tl.keys, int(query["cursor"])))
            except ValueError:
                raise BadRequest("malformed cursor") from None
        lo = max(0, hi - limit)
        page = list(zip(tl.rows[lo:hi][::-1], tl.keys[lo:hi][::-1]))
        return post, page, (str(tl.keys[lo]) if lo > 0 else None)

    def get_likes(self, query, clock_ms) -> Reply:
        post, page, cursor = self._reaction_page(query, clock_ms, "like")
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        likes = [
            {
                "indexedAt": iso_ms(int(self.ix.reaction_ms[r])),
                "createdAt": iso_ms(int(self.ix.reaction_ms[r])),
                "actor": self.profile_view(self.ix.account_by_id[reactors[r]]),
            }
            for r, _ in page
        ]
        return Reply(200, _with_cursor({"uri": query["uri"], **_cid(post), "likes": likes}, cursor))

    def get_reposted_by(self, query, clock_ms) -> Reply:
        post, page, cursor = self._reaction_page(query, clock_ms, "repost")
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        actors = [self.profile_view(self.ix.account_by_id[reactors[r]]) for r, _ in page]
        return Reply(200, _with_cursor({"uri": query["uri"], **_cid(post), "repostedBy": actors}, cursor))

    def get_quotes(self, query, clock_ms) -> Reply:
        uri = self._uri(query)
        limit = int_param(query, "limit", 50, 1, 100)
        post = self.ix.post(uri, clock_ms)
        tl = self.ix.quotes(uri)
        hi = tl.visible(clock_ms) if post else 0
        if query.get("cursor"):
            hi = min(hi, bisect_left(tl.keys, query["cursor"]))
        lo = max(0, hi - limit)
        posts = [self.post_view(self.ix.post_at(int(r)), clock_ms) for r in tl.rows[lo:hi][::-1]]
        return Reply(
            200, _with_cursor({"uri": uri, **_cid(post), "posts": posts}, str(tl.keys[lo]) if lo > 0 else None)
        )

    def get_post_thread(self, query, clock_ms) -> Reply:
        uri = self._uri(query)
        depth = int_param(query, "depth", 6, 0, 1000)
        parent_height = int_param(query, "parentHeight", 80, 0, 1000)
        post = self.ix.post(uri, clock_ms)
        if post is None or post["network"] != "bluesky":
            return Reply(400, {"error": "NotFound", "message": f"Post not found: {uri}"})
        thread = self._thread(post, clock_ms, depth)
        if parent_height > 0 and post["reply_to_post_id"]:
            thread["parent"] = self._thread(self.ix.post(post["reply_to_post_id"], clock_ms), clock_ms, 0)
        return Reply(200, {"thread": thread})

    def _thread(self, post: dict, clock_ms: int, depth: int) -> dict:
        node = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(post, clock_ms)}
        if depth > 0:
            tl = self.ix.replies(post["post_id"])
            node["replies"] = [
                self._thread(self.ix.post_at(int(r)), clock_ms, depth - 1)
                for r in tl.rows[: tl.visible(clock_ms)][::-1]
            ]
        return node


def _facet(text: str, token: str, feature: dict) -> dict | None:
    """A richtext facet; atproto indexes facets by UTF-8 byte offsets."""
    pos = text.find(token)
    if pos < 0:
        return None
    start = len(text[:pos].encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(token.encode())}, "features": [feature]}


def _cid(post: dict | None) -> dict:
    return {"cid": post["cid"]} if post else {}


def _with_cursor(body: dict, cursor: str | None) -> dict:
    if cursor is not None:
        body["cursor"] = cursor
    return body


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """did:plc ids, <stem>.bsky.social handles; Bluesky has no private accounts."""
    account_id = pd.Series("did:plc:" + random_strings(rng, len(numbers), 24).astype(object))
    return account_id, stems + ".bsky.social", np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """AT-URIs whose record key is a TID: microseconds-ish time, then the day's bits and rank."""
    tid_int = ((ms.astype(np.int64) * 1000 + rank % 1000) << 10) | (day_bits << 7) | ((rank // 1000) % 128)
    shifts = np.arange(12, -1, -1) * 5
    tid_chars = B32_SORT[(tid_int[:, None] >> shifts[None, :]) & 31]
    tid = np.ascontiguousarray(tid_chars).view("<U13").ravel().astype(object)
    return "at://" + authors + "/app.bsky.feed.post/" + tid


def _rate_headers(limit: int, remaining: int, reset_epoch: float, window_s: float) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(math.ceil(reset_epoch)),
        "RateLimit-Policy": f"{limit};w={math.ceil(window_s)}",
    }


DIALECT = NetworkDialect(
    name="bluesky",
    joined=2,
    path_prefix="/xrpc/",
    handler=Bluesky,
    invalid_status=400,
    error_body=lambda code, message: {"error": code, "message": message},
    rate_headers=_rate_headers,
    reaction_mix=(("like", 0.60), ("repost", 0.17), ("reply", 0.13), ("quote", 0.10)),
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=lambda post_id: post_id.rsplit("/", 1)[1],
    content_ids=True,
)
