"""Instagram client (Instagram Graph API, Facebook login: https://developers.facebook.com/docs/instagram-platform/).

An IG professional account is found by username through `business_discovery` on our own IG user
(`/me`), which also gives its counts (`followers_count`, `follows_count`, `media_count`). Its media
come from `/{ig-user-id}/media` (newest first; `timestamp`, `like_count`, `comments_count`),
comments and their replies from `/{ig-media-id}/comments` (`from`, `timestamp`; replies expanded
in the same call). Likes are a count only: the API lists no likers, so `like` stays in
`Post.reaction_counts` and is never landed. Mentions are the `@username`s of a media's caption,
resolved to ids through `business_discovery`; `/{ig-user-id}/tags` (media the account is tagged
in) is read by `tagged_media` but lands nothing: a mention lands with its mentioning post.

Paging, errors and rate limits are the Graph API's (connectors/facebook.py): the same cursor
paging, throttling codes and Meta usage headers (`X-Business-Use-Case-Usage`, type instagram).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from connectors.facebook import GraphApi, meta_rate_signal
from connectors.http import HttpStatusError
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.registry import NetworkSpec

NETWORK = "instagram"
DEFAULT_BASE_URL = "https://graph.facebook.com"
VERSION = "v22.0"
USER_FIELDS = "id,username,name,biography,followers_count,follows_count,media_count"
MEDIA_FIELDS = "id,caption,media_type,permalink,timestamp,username,like_count,comments_count"
COMMENT_FIELDS = "id,text,timestamp,username,from,like_count,replies{id,text,timestamp,username,from}"
TAG_FIELDS = "id,caption,media_type,permalink,timestamp,username"
# native reaction word -> the media field counting it; `like` names nobody
REACTION_COUNTS = {"comment": "comments_count"}
ANONYMOUS_COUNTS = {"like": "like_count"}
# Instagram usernames: letters, digits, periods and underscores, at most 30
MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)")


class InstagramClient(GraphApi):
    network = NETWORK
    version = VERSION

    def __init__(self, http):
        super().__init__(http)
        self._ids: dict[str, str | None] = {}  # username -> IG user id (None: not a professional account)

    # --- native endpoints ---

    def discover(self, username: str) -> dict[str, Any]:
        """Another professional account, by username, through our own IG user."""
        body = self.node("me", f"business_discovery.username({username}){{{USER_FIELDS}}}", account=username)
        return body["business_discovery"]

    def media(self, ig_user_id: str, *, since: int | None = None, until: int | None = None) -> Iterator[dict]:
        """The account's media, newest first; `since`/`until` are unix seconds."""
        yield from self.edge(ig_user_id, "media", MEDIA_FIELDS, account=ig_user_id, limit=100, since=since, until=until)

    def comments(self, media_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        """Top-level comments, newest first, each with its `replies` expanded."""
        yield from self.edge(media_id, "comments", COMMENT_FIELDS, account=account, limit=100)

    def replies(self, comment_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        yield from self.edge(comment_id, "replies", "id,text,timestamp,username,from", account=account, limit=100)

    def tagged_media(self, ig_user_id: str) -> Iterator[dict[str, Any]]:
        """Media in which the account is tagged (by others)."""
        yield from self.edge(ig_user_id, "tags", TAG_FIELDS, account=ig_user_id, limit=100)

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        found = self.discover(handle)
        self._ids[found.get("username", handle).lower()] = found["id"]
        return AccountSnapshot(found["id"], found.get("username") or handle, found)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        for media in self.media(account.account_id):
            counts = {**REACTION_COUNTS, **ANONYMOUS_COUNTS}
            mentioned = [self._user_id(name) for name in MENTION.findall(media.get("caption") or "")]
            yield Post(
                post_id=media["id"],
                account_id=account.account_id,
                created_at=parse_time(media["timestamp"]),
                payload=media,
                reaction_counts={word: int(media.get(field) or 0) for word, field in counts.items()},
                mentioned_account_ids=tuple(dict.fromkeys(i for i in mentioned if i and i != account.account_id)),
            )

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        if reaction_type != "comment":
            return  # likes: a count only
        account = post.account_id
        for comment in self.comments(post.post_id, account=account):
            for item in [comment, *((comment.get("replies") or {}).get("data") or ())]:
                author = (item.get("from") or {}).get("id")
                if author and author != account:  # the owner answering on their own media
                    yield Reaction(author, parse_time(item["timestamp"]), item)

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """IG users: `from` objects and user nodes (`id` with `username`, not media or comments)."""
        if isinstance(payload, dict):
            if (
                isinstance(payload.get("id"), str)
                and "username" in payload
                and not {"timestamp", "media_type", "text", "caption"} & set(payload)
            ):
                yield payload["id"]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    def _user_id(self, username: str) -> str | None:
        """A mentioned username's IG user id, asked once per client; None when business discovery
        does not know it (a personal account, or no account at all)."""
        key = username.lower()
        if key not in self._ids:
            try:
                self._ids[key] = self.discover(username)["id"]
            except HttpStatusError as exc:
                if exc.status not in (400, 404):
                    raise
                self._ids[key] = None
        return self._ids[key]


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=InstagramClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="INSTAGRAM",
    credentials_required=True,  # every call needs an access token
    reaction_types=tuple(REACTION_COUNTS),
    anonymous_counts=tuple(ANONYMOUS_COUNTS),
    account_counts={
        "followers_count": "followers_count",
        "following_count": "follows_count",
        "posts_count": "media_count",
    },
    # Instagram business use case: calls per 24 h scale with impressions; start slow until Meta's
    # usage headers say how much is used
    max_requests=200,
    per_seconds=3600,
    rate_signals=meta_rate_signal,
)
