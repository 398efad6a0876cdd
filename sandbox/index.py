"""Read-only lookup structures over a World so each request costs O(page), not O(world).

All time filtering is by integer epoch milliseconds against the server clock; lists are kept in
ascending time order so "visible at the clock" is a prefix found with `searchsorted`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.world import World


def to_ms(ts) -> int:
    return int(pd.Timestamp(ts).value // 1_000_000)  # .value is always nanoseconds


def epoch_ms(series: pd.Series) -> np.ndarray:
    return series.dt.as_unit("ms").astype("int64").to_numpy()


@dataclass
class Timeline:
    """Items in ascending (time, key) order; `keys` are the cursor values (sortable)."""

    ms: np.ndarray
    keys: np.ndarray
    rows: np.ndarray  # positional index into the source frame

    def visible(self, clock_ms: int) -> int:
        """Number of items created at or before the clock (a prefix)."""
        return int(np.searchsorted(self.ms, clock_ms, side="right"))


_EMPTY = Timeline(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))


class WorldIndex:
    def __init__(self, world: World):
        self.world = world
        acc = world.accounts.reset_index(drop=True)
        self.accounts = acc.to_dict("records")
        self.account_by_id = {a["account_id"]: a for a in self.accounts}
        self.account_by_handle = {(a["network"], a["handle"]): a for a in self.accounts}

        posts = world.posts.reset_index(drop=True)
        self.posts = posts
        self.post_ms = epoch_ms(posts.created_at)
        self.post_row = {pid: i for i, pid in enumerate(posts.post_id)}
        self.post_records = posts.to_dict("records")
        self.post_sort_key = np.array(
            [self._sort_key(n, p) for n, p in zip(posts.network, posts.post_id)], dtype=object
        )
        self.posts_by_account = self._timelines(posts.account_id, self.post_ms, self.post_sort_key)
        replies = posts[posts.kind == "reply"]
        quotes = posts[posts.kind == "quote"]
        self.replies_to = self._timelines(
            replies.reply_to_post_id,
            self.post_ms[replies.index],
            self.post_sort_key[replies.index],
            replies.index.to_numpy(),
        )
        self.quotes_of = self._timelines(
            quotes.quote_of_post_id,
            self.post_ms[quotes.index],
            self.post_sort_key[quotes.index],
            quotes.index.to_numpy(),
        )

        reactions = world.reactions.reset_index(drop=True)
        self.reactions = reactions
        r_ms = epoch_ms(reactions.created_at)
        self.reaction_ms = r_ms
        pair = pd.Series(list(zip(reactions.post_id, reactions.reaction_type)), dtype=object)
        self.reactions_by = self._timelines(pair, r_ms, reactions.seq.to_numpy())

    @staticmethod
    def _sort_key(network: str, post_id: str):
        """Native order of post ids: numeric snowflakes for Mastodon, the TID for Bluesky."""
        return int(post_id) if network == "mastodon" else post_id.rsplit("/", 1)[1]

    @staticmethod
    def _timelines(group_key: pd.Series, ms: np.ndarray, keys: np.ndarray, rows=None) -> dict:
        """Split items into per-group Timelines with one global sort (no per-group sorting)."""
        rows = np.arange(len(group_key)) if rows is None else np.asarray(rows)
        groups = group_key.to_numpy()
        order = np.lexsort((rows, ms, pd.factorize(groups)[0]))
        groups, ms, keys, rows = groups[order], ms[order], keys[order], rows[order]
        bounds = np.flatnonzero(groups[1:] != groups[:-1]) + 1
        starts = np.concatenate([[0], bounds]) if len(groups) else np.empty(0, int)
        ends = np.concatenate([bounds, [len(groups)]]) if len(groups) else np.empty(0, int)
        return {groups[a]: Timeline(ms[a:b], keys[a:b], rows[a:b]) for a, b in zip(starts, ends)}

    def account_posts(self, account_id: str) -> Timeline:
        return self.posts_by_account.get(account_id, _EMPTY)

    def reactions_of(self, post_id: str, rtype: str) -> Timeline:
        return self.reactions_by.get((post_id, rtype), _EMPTY)

    def replies(self, post_id: str) -> Timeline:
        return self.replies_to.get(post_id, _EMPTY)

    def quotes(self, post_id: str) -> Timeline:
        return self.quotes_of.get(post_id, _EMPTY)

    def post(self, post_id: str, clock_ms: int) -> dict | None:
        """The post as a dict if it exists at the clock."""
        row = self.post_row.get(post_id)
        if row is None or self.post_ms[row] > clock_ms:
            return None
        return self.post_at(row)

    def post_at(self, row: int) -> dict:
        rec = dict(self.post_records[row])
        rec["ms"] = int(self.post_ms[row])
        for key in ("reply_to_post_id", "quote_of_post_id", "cid"):
            if not isinstance(rec[key], str):
                rec[key] = None
        return rec

    def count(self, post_id: str, rtype: str, clock_ms: int) -> int:
        return self.reactions_of(post_id, rtype).visible(clock_ms)

    def statuses_count(self, account: dict, clock_ms: int) -> tuple[int, int | None]:
        """(posts made as of the clock, ms of the latest one or None)."""
        tl = self.account_posts(account["account_id"])
        n = tl.visible(clock_ms)
        return int(account["base_statuses"]) + n, (int(tl.ms[n - 1]) if n else None)
