"""Mastodon REST v1 (https://docs.joinmastodon.org/methods/), as the sandbox serves it."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from sandbox.dialects.common import (
    TAG_RE,
    NetworkDialect,
    Reply,
    bisect_left,
    bisect_right,
    int_id,
    int_param,
    iso_ms,
    page_url,
)
from sandbox.index import WorldIndex

# --------------------------------------------------------------------------- Mastodon REST v1


class Mastodon:
    def __init__(self, index: WorldIndex):
        self.ix = index

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        parts = path.strip("/").split("/")[2:]  # after api/v1
        if parts == ["accounts", "lookup"]:
            acc = self.ix.account_by_handle.get(("mastodon", query.get("acct", "").lstrip("@")))
            return self._account_reply(acc, clock_ms, base)
        if len(parts) == 2 and parts[0] == "accounts":
            return self._account_reply(self._account(parts[1]), clock_ms, base)
        if len(parts) == 3 and parts[0] == "accounts" and parts[2] == "statuses":
            acc = self._account(parts[1])
            if acc is None:
                return not_found_mastodon()
            return self.statuses(acc, query, clock_ms, base, path)
        if len(parts) >= 2 and parts[0] == "statuses":
            post = self.ix.post(parts[1], clock_ms)
            if post is None or post["network"] != "mastodon":
                return not_found_mastodon()
            if len(parts) == 2:
                return Reply(200, self.status(post, clock_ms, base))
            if parts[2] == "context":
                return self.context(post, clock_ms, base)
            if parts[2] in ("favourited_by", "reblogged_by"):
                rtype = "favourite" if parts[2] == "favourited_by" else "reblog"
                return self.reactors(post, rtype, query, clock_ms, base, path)
        return not_found_mastodon()

    def _account(self, account_id: str) -> dict | None:
        acc = self.ix.account_by_id.get(account_id)
        return acc if acc and acc["network"] == "mastodon" else None

    def _account_reply(self, acc, clock_ms, base) -> Reply:
        if acc is None:
            return not_found_mastodon()
        return Reply(200, self.account(acc, clock_ms, base))

    def account(self, acc: dict, clock_ms: int, base: str) -> dict:
        statuses, last_ms = self.ix.statuses_count(acc, clock_ms)
        username = acc["handle"]
        avatar = f"{base}/avatars/{acc['account_id']}.png"
        header = f"{base}/headers/{acc['account_id']}.png"
        return {
            "id": acc["account_id"],
            "username": username,
            "acct": username,
            "display_name": acc["display_name"],
            "locked": bool(acc["is_private"]),
            "bot": False,
            "discoverable": True,
            "group": False,
            "indexable": True,
            "hide_collections": False,
            "created_at": iso_ms(int(acc["created_at"].value // 1_000_000)),
            "note": f"<p>{html.escape(acc['display_name'])} on the sandbox.</p>",
            "url": f"{base}/@{username}",
            "uri": f"{base}/users/{username}",
            "avatar": avatar,
            "avatar_static": avatar,
            "avatar_description": "",
            "header": header,
            "header_static": header,
            "header_description": "",
            "followers_count": int(acc["followers_count"]),
            "following_count": int(acc["following_count"]),
            "statuses_count": statuses,
            "last_status_at": iso_ms(last_ms)[:10] if last_ms is not None else None,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
            "roles": [],
            "emojis": [],
            "fields": [{"name": "Sandbox", "value": "synthetic", "verified_at": None}],
            "feature_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        }

    def status(self, post: dict, clock_ms: int, base: str) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        pid = post["post_id"]
        mentioned = [self.ix.account_by_id[m] for m in post["mentions"]]
        parent = self.ix.post(post["reply_to_post_id"], clock_ms) if post["reply_to_post_id"] else None
        return {
            "id": pid,
            "created_at": iso_ms(post["ms"]),
            "in_reply_to_id": post["reply_to_post_id"],
            "in_reply_to_account_id": parent["account_id"] if parent else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "private" if acc["is_private"] else "public",
            "language": "en",
            "uri": f"{base}/users/{acc['handle']}/statuses/{pid}",
            "url": f"{base}/@{acc['handle']}/{pid}",
            "replies_count": self.ix.count(pid, "reply", clock_ms),
            "reblogs_count": self.ix.count(pid, "reblog", clock_ms),
            "favourites_count": self.ix.count(pid, "favourite", clock_ms),
            "quotes_count": 0,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": self._content(post["text"], mentioned, base),
            "reblog": None,
            "application": {"name": "Web", "website": None},
            "account": self.account(acc, clock_ms, base),
            "media_attachments": [],
            "mentions": [
                {"id": m["account_id"], "username": m["handle"], "acct": m["handle"], "url": f"{base}/@{m['handle']}"}
                for m in mentioned
            ],
            "tags": [{"name": t.lower(), "url": f"{base}/tags/{t.lower()}"} for t in TAG_RE.findall(post["text"])],
            "emojis": [],
            "quote": None,
            "card": None,
            "poll": None,
            "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        }

    @staticmethod
    def _content(text: str, mentioned: list[dict], base: str) -> str:
        out = html.escape(text, quote=False)
        for m in mentioned:
            user = m["handle"]
            out = out.replace(
                f"@{user}",
                f'<span class="h-card"><a href="{base}/@{user}" class="u-url mention">@<span>{user}</span></a></span>',
            )
        out = TAG_RE.sub(
            lambda t: (
                f'<a href="{base}/tags/{t.group(1).lower()}" class="mention hashtag" '
                f'rel="tag">#<span>{t.group(1)}</span></a>'
            ),
            out,
        )
        return f"<p>{out}</p>"

    def statuses(self, acc, query, clock_ms, base, path) -> Reply:
        limit = int_param(query, "limit", 20, 1, 40)
        tl = self.ix.account_posts(acc["account_id"])
        n = tl.visible(clock_ms)
        keys, rows = tl.keys[:n], tl.rows[:n]
        lo, hi = 0, n
        for name in ("since_id", "min_id"):
            if query.get(name):
                lo = max(lo, bisect_right(keys, int_id(query[name])))
        if query.get("max_id"):
            hi = min(hi, bisect_left(keys, int_id(query["max_id"])))
        candidates = list(rows[lo:hi][::-1])  # newest first
        if query.get("exclude_replies") in ("true", "1", "True"):
            candidates = [r for r in candidates if self.ix.posts.kind.iat[r] != "reply"]
        page = candidates[-limit:] if query.get("min_id") else candidates[:limit]
        statuses = [self.status(self.ix.post_at(r), clock_ms, base) for r in page]
        links = []
        if len(statuses) == limit:
            links.append(f'<{page_url(base, path, query, max_id=statuses[-1]["id"])}>; rel="next"')
        if statuses:
            links.append(f'<{page_url(base, path, query, min_id=statuses[0]["id"])}>; rel="prev"')
        return Reply(200, statuses, {"Link": ", ".join(links)} if links else {})

    def reactors(self, post, rtype, query, clock_ms, base, path) -> Reply:
        limit = int_param(query, "limit", 40, 1, 80)
        tl = self.ix.reactions_of(post["post_id"], rtype)
        hi = tl.visible(clock_ms)
        if query.get("max_id"):
            hi = min(hi, bisect_left(tl.keys, int_id(query["max_id"])))
        rows = tl.rows[max(0, hi - limit) : hi][::-1]
        keys = tl.keys[max(0, hi - limit) : hi][::-1]
        reactor_ids = self.ix.reactions.reactor_account_id.to_numpy()
        accounts = [self.account(self.ix.account_by_id[reactor_ids[r]], clock_ms, base) for r in rows]
        headers = {}
        if len(accounts) == limit:
            headers["Link"] = f'<{page_url(base, path, query, max_id=str(keys[-1]))}>; rel="next"'
        return Reply(200, accounts, headers)

    def context(self, post, clock_ms, base) -> Reply:
        tl = self.ix.replies(post["post_id"])
        rows = tl.rows[: tl.visible(clock_ms)]
        parent = self.ix.post(post["reply_to_post_id"], clock_ms) if post["reply_to_post_id"] else None
        return Reply(
            200,
            {
                "ancestors": [self.status(parent, clock_ms, base)] if parent else [],
                "descendants": [self.status(self.ix.post_at(r), clock_ms, base) for r in rows],
            },
        )


def not_found_mastodon() -> Reply:
    return Reply(404, {"error": "Record not found"})


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """Numeric ids, user_name handles; some accounts are locked (private)."""
    account_id = pd.Series(109_000_000 + (numbers + 1) * 37).astype(str)
    return account_id, stems.str.replace(" ", "_"), rng.random(len(numbers)) < private_share


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """Snowflake ids: milliseconds, then the day's bits, then the rank within the day."""
    return ((ms.astype(np.int64) << 16) | (day_bits << 13) | (rank % 8192)).astype(str).astype(object)


def _rate_headers(limit: int, remaining: int, reset_epoch: float, window_s: float) -> dict[str, str]:
    reset_iso = datetime.fromtimestamp(reset_epoch, tz=UTC).isoformat(timespec="milliseconds")
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": reset_iso.replace("+00:00", "Z"),
    }


DIALECT = NetworkDialect(
    name="mastodon",
    joined=1,
    path_prefix="/api/v1/",
    handler=Mastodon,
    invalid_status=422,
    error_body=lambda code, message: {"error": message},
    rate_headers=_rate_headers,
    reaction_mix=(("favourite", 0.62), ("reblog", 0.22), ("reply", 0.16)),
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=int,
)
