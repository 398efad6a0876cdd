"""Instagram Graph API (v22.0, Facebook login), as the sandbox serves it.

`/me?fields=business_discovery.username(<name>){...}` finds a professional account by username;
`/{ig-user-id}/media` (newest first, `since`/`until`), `/{ig-user-id}/tags` (media the account is
tagged in: the world's mentions of it), `/{ig-media-id}/comments` (newest first, `from`,
`timestamp`, `replies{...}` expandable) and `/{ig-comment-id}/replies`. `like_count` is a count
the API never itemises; the world draws no likers, so it is derived from the media's comments.
"""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pandas as pd

from sandbox.dialects import graph
from sandbox.dialects.common import NetworkDialect, Reply
from sandbox.index import WorldIndex

VERSION = "v22.0"
ME = "17841400000000001"  # the sandbox app's own IG user, which business discovery runs from
USER_DEFAULT = ("id",)
MEDIA_DEFAULT = ("id",)
COMMENT_DEFAULT = ("id", "text", "timestamp")
DISCOVERY = re.compile(r"^\.username\(([^)]*)\)(?:\{(.*)\})?$")
COMMENT_IDS = 17_800_000_000_000_000


class Instagram:
    def __init__(self, index: WorldIndex):
        self.ix = index
        mentions = index.world.posts[["post_id", "mentions"]].explode("mentions").dropna()
        self.tagged: dict[str, list[str]] = mentions.groupby("mentions").post_id.agg(list).to_dict()

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        parts = path.strip("/").split("/")[1:]
        if len(parts) == 1:
            return self.read_node(parts[0], query, clock_ms)
        if len(parts) == 2:
            node, edge = parts
            if edge in ("media", "tags"):
                acc = self._user(node)
                if acc is None:
                    return graph.not_found(node)
                return (self.media if edge == "media" else self.tags)(acc, query, clock_ms, base, path)
            if edge == "comments":
                post = self._media(node, clock_ms)
                return graph.not_found(node) if post is None else self.comments(post, query, clock_ms, base, path)
            if edge == "replies":
                comment = self._comment(node, clock_ms)
                return graph.not_found(node) if comment is None else graph.page_of(base, path, query, [], [], False)
        return Reply(400, graph.error_body("InvalidRequest", f"Unknown path components: /{'/'.join(parts[1:])}"))

    # --- lookups

    def _user(self, node: str) -> dict | None:
        acc = self.ix.account_by_id.get(node)
        return acc if acc and acc["network"] == "instagram" else None

    def _media(self, node: str, clock_ms: int) -> dict | None:
        post = self.ix.post(node, clock_ms)
        return post if post and post["network"] == "instagram" else None

    def _comment(self, node: str, clock_ms: int) -> int | None:
        try:
            seq = int(node) - COMMENT_IDS
        except ValueError:
            return None
        found = np.flatnonzero(self.ix.reactions.seq.to_numpy() == seq)
        if not len(found) or self.ix.reaction_ms[found[0]] > clock_ms:
            return None
        return int(found[0])

    def read_node(self, node: str, query: dict, clock_ms: int) -> Reply:
        if node == "me":
            return self.me(query, clock_ms)
        acc = self._user(node)
        if acc is not None:
            return Reply(200, self.user(acc, graph.fields_of(query, USER_DEFAULT), clock_ms))
        post = self._media(node, clock_ms)
        if post is not None:
            return Reply(200, self.media_object(post, graph.fields_of(query, MEDIA_DEFAULT), clock_ms))
        return graph.not_found(node)

    def me(self, query: dict, clock_ms: int) -> Reply:
        fields = graph.fields_of(query, ("id",))
        body: dict = {"id": ME}
        if "business_discovery" in fields:
            match = DISCOVERY.match(fields["business_discovery"])
            if match is None:
                return Reply(400, graph.error_body("InvalidRequest", "(#100) Syntax error in business_discovery"))
            acc = self.ix.account_by_handle.get(("instagram", match.group(1)))
            if acc is None:
                return Reply(400, _invalid_user())
            wanted = graph.fields_of({"fields": match.group(2) or ""}, USER_DEFAULT)
            body["business_discovery"] = self.user(acc, wanted, clock_ms)
        if "username" in fields:
            body["username"] = "sandbox_app"
        return Reply(200, body)

    # --- objects

    def user(self, acc: dict, fields: dict[str, str], clock_ms: int) -> dict:
        media, _ = self.ix.statuses_count(acc, clock_ms)
        obj = {
            "id": acc["account_id"],
            "username": acc["handle"],
            "name": acc["display_name"],
            "biography": f"{acc['display_name']} on the sandbox.",
            "followers_count": int(acc["followers_count"]),
            "follows_count": int(acc["following_count"]),
            "media_count": media,
        }
        return graph.select(obj, fields)

    def media_object(self, post: dict, fields: dict[str, str], clock_ms: int) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        pid = post["post_id"]
        comments = self.ix.count(pid, "comment", clock_ms)
        obj = {
            "id": pid,
            "caption": post["text"],
            "media_type": "IMAGE",
            "media_product_type": "FEED",
            "permalink": f"https://www.instagram.com/p/{graph.cursor(pid)[:11]}/",
            "timestamp": graph.graph_time(post["ms"]),
            "username": acc["handle"],
            "owner": {"id": acc["account_id"]},
            "like_count": self.ix.count(pid, "like", clock_ms),
            "comments_count": comments,
        }
        return graph.select(obj, fields)

    # --- edges

    def media(self, acc: dict, query: dict, clock_ms: int, base: str, path: str) -> Reply:
        tl = self.ix.account_posts(acc["account_id"])
        n = tl.visible(clock_ms)
        lo_ms, hi_ms = graph.time_param(query, "since"), graph.time_param(query, "until")
        lo = int(np.searchsorted(tl.ms[:n], lo_ms, side="left")) if lo_ms is not None else 0
        hi = int(np.searchsorted(tl.ms[:n], hi_ms, side="right")) if hi_ms is not None else n
        keys, rows = list(tl.keys[lo:hi]), tl.rows[lo:hi]
        span, more = graph.slice_after(keys, query, 25, oldest_first=False)
        fields = graph.fields_of(query, MEDIA_DEFAULT)
        items = [self.media_object(self.ix.post_at(int(rows[i])), fields, clock_ms) for i in span]
        return graph.page_of(base, path, query, items, [keys[i] for i in span], more)

    def tags(self, acc: dict, query: dict, clock_ms: int, base: str, path: str) -> Reply:
        posts = [self.ix.post(pid, clock_ms) for pid in self.tagged.get(acc["account_id"], [])]
        posts = sorted((p for p in posts if p), key=lambda p: (p["ms"], int(p["post_id"])))
        keys = [int(p["post_id"]) for p in posts]
        span, more = graph.slice_after(keys, query, 25, oldest_first=False)
        fields = graph.fields_of(query, MEDIA_DEFAULT)
        items = [self.media_object(posts[i], fields, clock_ms) for i in span]
        return graph.page_of(base, path, query, items, [keys[i] for i in span], more)

    def comments(self, post: dict, query: dict, clock_ms: int, base: str, path: str) -> Reply:
        tl = self.ix.reactions_of(post["post_id"], "comment")
        n = tl.visible(clock_ms)
        keys = [int(k) for k in tl.keys[:n]]
        span, more = graph.slice_after(keys, query, 25, oldest_first=False)
        fields = graph.fields_of(query, COMMENT_DEFAULT)
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        items = []
        for i in span:
            row = int(tl.rows[i])
            acc = self.ix.account_by_id[reactors[row]]
            obj = {
                "id": str(COMMENT_IDS + keys[i]),
                "text": f"@{self.ix.account_by_id[post['account_id']]['handle']} love this",
                "timestamp": graph.graph_time(int(self.ix.reaction_ms[row])),
                "username": acc["handle"],
                "from": {"id": acc["account_id"], "username": acc["handle"]},
                "like_count": 0,
                "hidden": False,
                "replies": {"data": []},  # the world draws no replies to comments
            }
            items.append(graph.select(obj, fields))
        return graph.page_of(base, path, query, items, [keys[i] for i in span], more)


def _invalid_user() -> dict:
    return {
        "error": {
            "message": "Invalid user id",
            "type": "OAuthException",
            "code": 110,
            "error_subcode": 2207013,
            "error_user_title": "Cannot find User",
            "error_user_msg": "The user with username: is not found",
            "fbtrace_id": "AsandboxNoUser",
        }
    }


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """IG user ids (17841...), usernames with underscores; professional accounts are public."""
    account_id = pd.Series(17_841_400_000_000_000 + (numbers + 1) * 104_729).astype(str)
    return account_id, stems.str.replace(" ", "_", regex=False), np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """Numeric media ids growing with time (milliseconds, day bits, rank)."""
    return ((ms.astype(np.int64) << 16) | (day_bits << 13) | (rank % 8192)).astype(str).astype(object)


DIALECT = NetworkDialect(
    name="instagram",
    joined=5,
    path_prefix=f"/{VERSION}/",
    handler=Instagram,
    invalid_status=400,
    error_body=graph.error_body,
    rate_headers=partial(graph.usage_headers, use_case="instagram"),
    # the Instagram business use case's code first (a spent window), then the app and user limits
    throttle_reply=partial(graph.throttle_reply, codes=(80002, 4, 17, 613), use_case="instagram"),
    reaction_mix=(("comment", 0.3), ("like", 0.7)),
    anonymous=("like",),  # like_count only: the API names no liker
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=int,
    adoption=0.5,
    posts_rate=0.7,
    reactions_rate=4.0,
)
