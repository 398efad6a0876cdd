"""Facebook Pages (Graph API v21.0), as the sandbox serves it.

Nodes: a Page (by id or username), a PagePost, a Comment. Edges: `/{page-id}/posts` (also
`feed`, `published_posts`; newest first, `since`/`until`), `/{post-id}/reactions` (Profiles with
`type`, no time), `/{post-id}/comments` (`from`, `created_time`; `order`). Shares are only a count
on the post (`shares.count`, left out at zero as Facebook does), derived from the post's reactions:
the world draws no sharer, as the API names none.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from sandbox.dialects import graph
from sandbox.dialects.common import NetworkDialect, Reply
from sandbox.index import WorldIndex

VERSION = "v21.0"
# native reaction types, weighted as they are drawn
REACTION_TYPES = ("LIKE",) * 6 + ("LOVE",) * 2 + ("HAHA", "WOW", "SAD", "ANGRY", "CARE")
PAGE_DEFAULT = ("id", "name")
POST_DEFAULT = ("id", "created_time", "message")
PROFILE_DEFAULT = ("id", "name")
COMMENT_DEFAULT = ("id", "created_time", "from", "message")


class Facebook:
    def __init__(self, index: WorldIndex):
        self.ix = index

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        parts = path.strip("/").split("/")[1:]  # after the version
        if len(parts) == 1:
            return self.read_node(parts[0], query, clock_ms, base)
        if len(parts) == 2:
            node, edge = parts
            if edge in ("posts", "feed", "published_posts"):
                acc = self._page(node)
                return graph.not_found(node) if acc is None else self.posts(acc, query, clock_ms, base, path)
            post = self._post(node, clock_ms)
            if post is None:
                return graph.not_found(node)
            if edge in ("reactions", "likes"):
                return self.reactions(post, query, clock_ms, base, path, likes_only=edge == "likes")
            if edge == "comments":
                return self.comments(post, query, clock_ms, base, path)
        return Reply(400, graph.error_body("InvalidRequest", f"Unknown path components: /{'/'.join(parts[1:])}"))

    # --- lookups

    def _page(self, node: str) -> dict | None:
        acc = self.ix.account_by_id.get(node) or self.ix.account_by_handle.get(("facebook", node))
        return acc if acc and acc["network"] == "facebook" else None

    def _post(self, node: str, clock_ms: int) -> dict | None:
        post = self.ix.post(node, clock_ms)
        return post if post and post["network"] == "facebook" else None

    def read_node(self, node: str, query: dict, clock_ms: int, base: str) -> Reply:
        acc = self._page(node)
        if acc is not None:
            return Reply(200, self.page(acc, graph.fields_of(query, PAGE_DEFAULT)))
        post = self._post(node, clock_ms)
        if post is not None:
            return Reply(200, self.post(post, graph.fields_of(query, POST_DEFAULT), clock_ms, base))
        return graph.not_found(node)

    # --- objects

    def page(self, acc: dict, fields: dict[str, str]) -> dict:
        followers = int(acc["followers_count"])
        obj = {
            "id": acc["account_id"],
            "name": acc["display_name"],
            "username": acc["handle"],
            "about": f"{acc['display_name']} on the sandbox.",
            "category": "Personal blog",
            "link": f"https://www.facebook.com/{acc['handle']}",
            "fan_count": int(followers * 0.9),
            "followers_count": followers,
            "verification_status": "not_verified",
        }
        return graph.select(obj, fields)

    @staticmethod
    def profile(acc: dict) -> dict:
        return {"id": acc["account_id"], "name": acc["display_name"]}

    def post(self, post: dict, fields: dict[str, str], clock_ms: int, base: str) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        pid = post["post_id"]
        message, tags = self._message(post)
        reactions = self.ix.count(pid, "reaction", clock_ms)
        shares = self.ix.count(pid, "share", clock_ms)
        obj = {
            "id": pid,
            "created_time": graph.graph_time(post["ms"]),
            "message": message,
            "message_tags": tags or None,
            "from": self.profile(acc),
            "permalink_url": f"https://www.facebook.com/{acc['handle']}/posts/{pid.split('_', 1)[1]}",
            "status_type": "mobile_status_update",
            "is_published": True,
            "shares": {"count": shares} if shares else None,
            "reactions": self._summary(reactions, fields.get("reactions", "")),
            "comments": self._summary(self.ix.count(pid, "comment", clock_ms), fields.get("comments", "")),
        }
        return graph.select(obj, fields)

    @staticmethod
    def _summary(total: int, expansion: str) -> dict:
        """An edge expanded in a field list: its summary only (`.summary(...)`); the sandbox does
        not inline edge items, so ask for `.limit(0)` and read the edge itself."""
        body: dict = {"data": []}
        if ".summary(" in expansion:
            body["summary"] = {"total_count": total}
        return body

    def _message(self, post: dict) -> tuple[str, list[dict]]:
        """The text with each `@handle` written as the page's name, and a message tag for it."""
        text, tags = post["text"], []
        for account_id in post["mentions"]:
            acc = self.ix.account_by_id[account_id]
            token = "@" + acc["handle"]
            pos = text.find(token)
            if pos < 0:
                continue
            text = text[:pos] + acc["display_name"] + text[pos + len(token) :]
            tags.append(
                {
                    "id": account_id,
                    "name": acc["display_name"],
                    "type": "page",
                    "offset": len(text[:pos].encode("utf-16-le")) // 2,
                    "length": len(acc["display_name"]),
                }
            )
        return text, tags

    # --- edges

    def posts(self, acc: dict, query: dict, clock_ms: int, base: str, path: str) -> Reply:
        tl = self.ix.account_posts(acc["account_id"])
        n = tl.visible(clock_ms)
        lo_ms, hi_ms = graph.time_param(query, "since"), graph.time_param(query, "until")
        lo = int(np.searchsorted(tl.ms[:n], lo_ms, side="left")) if lo_ms is not None else 0
        hi = int(np.searchsorted(tl.ms[:n], hi_ms, side="right")) if hi_ms is not None else n
        keys = list(tl.keys[lo:hi])
        rows = tl.rows[lo:hi]
        span, more = graph.slice_after(keys, query, 25, oldest_first=False)
        fields = graph.fields_of(query, POST_DEFAULT)
        items = [self.post(self.ix.post_at(int(rows[i])), fields, clock_ms, base) for i in span]
        return graph.page_of(base, path, query, items, [keys[i] for i in span], more)

    def reactions(self, post: dict, query: dict, clock_ms: int, base: str, path: str, likes_only: bool) -> Reply:
        tl = self.ix.reactions_of(post["post_id"], "reaction")
        n = tl.visible(clock_ms)
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        wanted = query.get("type", "").upper() or None
        fields = graph.fields_of(query, PROFILE_DEFAULT)
        keys, rows = [], []
        for key, row in zip(tl.keys[:n], tl.rows[:n]):
            kind = graph.stable_pick(f"{post['post_id']}|{reactors[row]}", REACTION_TYPES)
            if (likes_only and kind != "LIKE") or (wanted and kind != wanted):
                continue
            keys.append(int(key))
            rows.append((row, kind))
        span, more = graph.slice_after(keys, query, 25, oldest_first=False)
        items = []
        for i in span:
            row, kind = rows[i]
            acc = self.ix.account_by_id[reactors[row]]
            obj = {**self.profile(acc), "profile_type": "page", "username": acc["handle"]}
            if not likes_only:
                obj["type"] = kind
            items.append(graph.select(obj, fields if likes_only else {**fields, "type": ""}))
        return graph.page_of(base, path, query, items, [keys[i] for i in span], more)

    def comments(self, post: dict, query: dict, clock_ms: int, base: str, path: str) -> Reply:
        tl = self.ix.reactions_of(post["post_id"], "comment")
        n = tl.visible(clock_ms)
        keys = [int(k) for k in tl.keys[:n]]
        newest_first = query.get("order") == "reverse_chronological"
        span, more = graph.slice_after(keys, query, 25, oldest_first=not newest_first)
        fields = graph.fields_of(query, COMMENT_DEFAULT)
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        number = post["post_id"].split("_", 1)[1]
        items = []
        for i in span:
            row = int(tl.rows[i])
            acc = self.ix.account_by_id[reactors[row]]
            obj = {
                "id": f"{number}_{keys[i]}",
                "created_time": graph.graph_time(int(self.ix.reaction_ms[row])),
                "from": self.profile(acc),
                "message": f"Replying to {self.ix.account_by_id[post['account_id']]['display_name']}: well said.",
                "like_count": 0,
                "comment_count": 0,
                "can_comment": True,
                "is_hidden": False,
            }
            items.append(graph.select(obj, fields))
        return graph.page_of(base, path, query, items, [keys[i] for i in span], more)


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """Numeric Page ids, usernames of letters and digits; Pages are public."""
    account_id = pd.Series(100_000_000_000_000 + (numbers + 1) * 7919).astype(str)
    return account_id, stems.str.replace(" ", "", regex=False), np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """`{page-id}_{number}`, the number growing with time (milliseconds, day bits, rank)."""
    number = ((ms.astype(np.int64) << 16) | (day_bits << 13) | (rank % 8192)).astype(str).astype(object)
    return authors + "_" + number


DIALECT = NetworkDialect(
    name="facebook",
    joined=4,
    path_prefix=f"/{VERSION}/",
    handler=Facebook,
    invalid_status=400,
    error_body=graph.error_body,
    rate_headers=graph.usage_headers,
    # the Pages business use case's code first (a spent window), then the app, user and page limits
    throttle_reply=partial(graph.throttle_reply, codes=(80001, 4, 17, 32, 613), use_case="pages"),
    reaction_mix=(("reaction", 0.7), ("comment", 0.18), ("share", 0.12)),
    anonymous=("share",),  # shares.count only: the API names no sharer
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=lambda post_id: int(post_id.split("_", 1)[1]),
    adoption=0.5,
    posts_rate=0.8,
    reactions_rate=1.5,
)
