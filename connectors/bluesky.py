"""Bluesky AppView client (XRPC, `app.bsky.*` lexicons)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.http import HttpClient
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.pagination import JsonCursorPaginator
from connectors.registry import NetworkSpec

NETWORK = "bluesky"
DEFAULT_BASE_URL = "https://public.api.bsky.app"
MENTION = "app.bsky.richtext.facet#mention"
_CURSOR = JsonCursorPaginator("cursor", "cursor")
# native reaction word -> the postView field counting it
REACTION_COUNTS = {"like": "likeCount", "repost": "repostCount", "reply": "replyCount", "quote": "quoteCount"}


class BlueskyClient:
    network = NETWORK

    def __init__(self, http: HttpClient):
        self.http = http

    # --- native endpoints ---

    def get_profile(self, actor: str) -> dict[str, Any]:
        return self.http.get("/xrpc/app.bsky.actor.getProfile", params={"actor": actor}, account=actor)

    def author_feed(
        self, actor: str, *, limit: int = 100, filter: str = "posts_with_replies"
    ) -> Iterator[dict[str, Any]]:
        """feedViewPost items, newest first; lazy."""
        yield from self._items(
            "app.bsky.feed.getAuthorFeed", "feed", actor, {"actor": actor, "limit": limit, "filter": filter}
        )

    def likes(self, uri: str, cid: str | None = None, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        """Like objects `{actor, createdAt, indexedAt}`."""
        yield from self._items("app.bsky.feed.getLikes", "likes", account, _subject(uri, cid))

    def reposted_by(self, uri: str, cid: str | None = None, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        yield from self._items("app.bsky.feed.getRepostedBy", "repostedBy", account, _subject(uri, cid))

    def quotes(self, uri: str, cid: str | None = None, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        yield from self._items("app.bsky.feed.getQuotes", "posts", account, _subject(uri, cid))

    def post_thread(self, uri: str, depth: int = 1, *, account: str | None = None) -> list[dict[str, Any]]:
        """postViews of the direct replies (blocked / not-found replies have no post)."""
        body = self.http.get(
            "/xrpc/app.bsky.feed.getPostThread", params={"uri": uri, "depth": depth, "parentHeight": 0}, account=account
        )
        replies = (body.get("thread") or {}).get("replies") or []
        return [
            r["post"]
            for r in replies
            if "post" in r and r["post"]["record"].get("reply", {}).get("parent", {}).get("uri") == uri
        ]

    def _items(
        self, nsid: str, items_path: str, account: str | None, params: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        params = {"limit": 100, **params}
        for page in self.http.paginate(f"/xrpc/{nsid}", _CURSOR, items_path=items_path, params=params, account=account):
            yield from page

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        profile = self.get_profile(handle)
        return AccountSnapshot(profile["did"], profile.get("handle") or handle, profile)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        """Own posts only: the feed also holds the account's reposts of others' posts, which are
        reactions to those posts, not posts of this account."""
        for item in self.author_feed(account.account_id):
            post = item["post"]
            if post["author"]["did"] != account.account_id or item.get("reason"):
                continue
            record = post["record"]
            yield Post(
                post_id=post["uri"],
                account_id=post["author"]["did"],
                created_at=parse_time(record["createdAt"]),
                payload=post,
                reaction_counts={word: post.get(field) or 0 for word, field in REACTION_COUNTS.items()},
                mentioned_account_ids=tuple(
                    feature["did"]
                    for facet in record.get("facets") or ()
                    for feature in facet.get("features") or ()
                    if feature.get("$type") == MENTION
                ),
            )

    def accounts_named(self, payload: dict[str, Any]) -> Iterator[str]:
        """Every `did` field at any depth: authors, actors, facet mentions, quoted posts' authors."""
        return _dids(payload)

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        uri, cid, account = post.post_id, post.payload.get("cid"), post.account_id
        if reaction_type == "like":
            for like in self.likes(uri, cid, account=account):
                yield Reaction(like["actor"]["did"], parse_time(like["createdAt"]), like)
        elif reaction_type == "repost":  # getRepostedBy gives no time
            for profile in self.reposted_by(uri, cid, account=account):
                yield Reaction(profile["did"], None, profile)
        else:
            found = (
                self.post_thread(uri, account=account)
                if reaction_type == "reply"
                else self.quotes(uri, cid, account=account)
            )
            for other in found:
                yield Reaction(other["author"]["did"], parse_time(other["record"]["createdAt"]), other)


def _dids(payload: Any) -> Iterator[str]:
    if isinstance(payload, dict):
        if isinstance(payload.get("did"), str):
            yield payload["did"]
        for value in payload.values():
            yield from _dids(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from _dids(value)


def _subject(uri: str, cid: str | None) -> dict[str, str]:
    return {"uri": uri, "cid": cid} if cid else {"uri": uri}


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=BlueskyClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="BLUESKY",
    reaction_types=tuple(REACTION_COUNTS),
    account_counts={
        "followers_count": "followersCount",
        "following_count": "followsCount",
        "posts_count": "postsCount",
    },
    max_requests=3000,
    per_seconds=300,
)
