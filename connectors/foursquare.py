"""Foursquare API v2 client, user endpoints with each person's own token
(https://docs.foursquare.com/developer/reference/personalization-apis-authentication).

Foursquare reads only its owner's data: nobody's check-ins can be read with someone else's
token. So every connected person is fetched with *their own* OAuth token (`oauth_token=`, a query
parameter), from a token store: `FOURSQUARE_TOKENS`, JSON handle -> token (in production, the
platform's store of the tokens people granted when they connected), or the sandbox's. A linked
handle without a token (never connected, or the token was revoked: 401 `invalid_auth`) is skipped
with one line (`NotConnected`), not failed. Tokens never reach logs, errors or metadata.

A person's posts are their check-ins (`users/self/checkins`, newest first, paged by `offset`)
and their tips (`lists/self/tips`, the user's tips list: `users/self/tips` is deprecated in v2's
documentation). Reactions: who liked a check-in or a tip (`checkins/:id/likes`, `tips/:id/likes`;
no time, so first seen), and who commented on a check-in (`checkins/:id`, with `createdAt`). A
tip's to-dos and dones are counts only. Mentions: the users a check-in's shout names (`entities`).

Every call carries `v=YYYYMMDD`; answers are `{meta, notifications, response}`, errors
`meta.errorType`. Rate limits: `X-RateLimit-Limit` / `-Remaining` / `-Reset` (epoch seconds; the
shared budget reads them), and a refused request is 403 `rate_limit_exceeded`, retried with backoff.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.http import ConnectorError, HttpClient, HttpStatusError, MalformedResponse, NotConnected
from connectors.ingest import AccountSnapshot, Post, Reaction
from connectors.registry import NetworkSpec, parse_person_tokens

NETWORK = "foursquare"
DEFAULT_BASE_URL = "https://api.foursquare.com"
API_VERSION = "20231010"  # the `v` date this client is written against
TOKENS_ENV = "FOURSQUARE_TOKENS"
CHECKINS_PAGE, TIPS_PAGE = 250, 200
# native word -> where a check-in or tip counts it; comment is a check-in's, todo and done a tip's
CHECKIN_COUNTS = {"like": ("likes", "count"), "comment": ("comments", "count")}
TIP_COUNTS = {"like": ("likes", "count"), "todo": ("todo", "count"), "done": ("done", "count")}
THROTTLED = "rate_limit_exceeded"
# what the owner's user object keeps when landed: no contact details, no friends' names
ACCOUNT_FIELDS = ("id", "firstName", "lastName", "handle", "canonicalUrl", "photo", "type", "createdAt")
COUNTED = ("friends", "checkins", "tips")


def tokens_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`FOURSQUARE_TOKENS` (JSON object handle -> token), for the client used outside Dagster; the
    Dagster resource passes the same variable as an `EnvVar`."""
    return parse_person_tokens(TOKENS_ENV, environ.get(TOKENS_ENV))


def error_type(body: Any) -> str | None:
    meta = body.get("meta") if isinstance(body, Mapping) else None
    return meta.get("errorType") if isinstance(meta, Mapping) else None


def _time(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def _count(obj: dict[str, Any], path: tuple[str, str]) -> int:
    return int((obj.get(path[0]) or {}).get(path[1]) or 0)


class FoursquareClient:
    network = NETWORK

    def __init__(self, http: HttpClient, tokens: Mapping[str, str] | None = None, throttle_retries: int = 4):
        self.http = http
        self.throttle_retries = throttle_retries
        self._tokens: dict[str, str] = {}
        self._handles: dict[str, str] = {}  # user id -> the handle whose token reads it
        self.use_tokens(tokens_from_env() if tokens is None else tokens)

    def use_tokens(self, tokens: Mapping[str, str]) -> None:
        """The token store: handle -> that person's own token (the values become secrets)."""
        self._tokens = {handle.lower(): token for handle, token in tokens.items() if token}
        self.http.add_secrets(*self._tokens.values())

    # --- native endpoints ---

    def call(self, endpoint: str, handle: str, params: Mapping[str, Any] | None = None, **path: str) -> dict:
        """`response` of one GET with `handle`'s token; a spent rate window (403
        `rate_limit_exceeded`) is waited out and retried, a refused token means not connected."""
        token = self._tokens.get(handle.lower())
        if token is None:
            raise NotConnected(self.network, endpoint, handle, f"no token for this handle (set {TOKENS_ENV})")
        query = {**(params or {}), "v": API_VERSION, "oauth_token": token}
        attempt = 0
        while True:
            try:
                body = self.http.get(endpoint, path_params=path, params=query, account=handle)
                break
            except HttpStatusError as exc:
                kind = error_type(exc.body)
                if kind == "invalid_auth":
                    raise NotConnected(self.network, endpoint, handle, "token invalid or revoked") from None
                if kind != THROTTLED or attempt >= self.throttle_retries:
                    raise
                delay = self.http.retry.backoff_factor * 2**attempt
                self.http.stats.add(waited_seconds=delay)
                self.http.retry.pause(delay)
                attempt += 1
        response = body.get("response") if isinstance(body, dict) else None
        if not isinstance(response, dict):
            raise MalformedResponse(self.network, endpoint, handle, "no `response` object")
        return response

    def user(self, handle: str) -> dict[str, Any]:
        return self.call("/v2/users/self", handle)["user"]

    def checkins(self, handle: str) -> Iterator[dict[str, Any]]:
        """The owner's check-ins, newest first; lazy."""
        yield from self._offset_pages(
            "/v2/users/self/checkins", handle, {"sort": "newestfirst"}, CHECKINS_PAGE, lambda r: r["checkins"]
        )

    def tips(self, handle: str) -> Iterator[dict[str, Any]]:
        """The owner's tips (the items of their tips list), newest first; lazy."""
        for item in self._offset_pages("/v2/lists/self/tips", handle, {}, TIPS_PAGE, lambda r: r["list"]["listItems"]):
            if isinstance(item.get("tip"), dict):
                yield item["tip"]

    def likes(self, kind: str, post_id: str, handle: str) -> list[dict[str, Any]]:
        """Everyone who liked the owner's check-in or tip (every group), once each."""
        likes = self.call(f"/v2/{kind}s/:id/likes", handle, id=post_id)["likes"]
        users = {}
        for group in likes.get("groups") or []:
            for person in group.get("items") or []:
                users.setdefault(person["id"], person)
        return list(users.values())

    def comments(self, checkin_id: str, handle: str) -> list[dict[str, Any]]:
        return (self.call("/v2/checkins/:id", handle, id=checkin_id)["checkin"].get("comments") or {}).get(
            "items"
        ) or []

    def _offset_pages(self, endpoint, handle, params, limit, collection) -> Iterator[dict[str, Any]]:
        offset = 0
        for _ in range(self.http.max_pages):
            try:
                page = collection(self.call(endpoint, handle, {**params, "limit": limit, "offset": offset}))
                items, total = page["items"], int(page["count"])
            except (KeyError, TypeError, ValueError):
                raise MalformedResponse(self.network, endpoint, handle, "no items/count in the response") from None
            yield from items
            offset += len(items)
            if not items or offset >= total:
                return
        raise ConnectorError(self.network, endpoint, handle, f"more than {self.http.max_pages} pages")

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        user = self.user(handle)
        self._handles[user["id"]] = handle
        payload = {k: user[k] for k in ACCOUNT_FIELDS if k in user}
        payload |= {k: {"count": _count(user, (k, "count"))} for k in COUNTED if k in user}
        return AccountSnapshot(user["id"], handle, payload)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        """Check-ins and tips in one stream, newest first."""
        handle = account.handle
        checkins = (self._post(c, account, CHECKIN_COUNTS, "checkin") for c in self.checkins(handle))
        tips = (self._post(t, account, TIP_COUNTS, "tip") for t in self.tips(handle))
        yield from heapq.merge(checkins, tips, key=lambda p: p.created_at, reverse=True)

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        handle = self._handles.get(post.account_id)
        if handle is None:
            return
        kind = post.payload.get("kind")
        if reaction_type == "like":
            for person in self.likes(kind, post.post_id, handle):  # no time: first seen
                if person["id"] != post.account_id:
                    yield Reaction(person["id"], None, person)
        elif reaction_type == "comment" and kind == "checkin":
            for comment in self.comments(post.post_id, handle):
                author = (comment.get("user") or {}).get("id")
                if author and author != post.account_id:
                    yield Reaction(author, _time(comment["createdAt"]), comment)

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """User objects (they carry `firstName`) and shout entities of type user, at any depth."""
        if isinstance(payload, dict):
            if isinstance(payload.get("id"), str) and ("firstName" in payload or payload.get("type") == "user"):
                yield payload["id"]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    # --- helpers ---

    def _post(self, obj: dict[str, Any], account: AccountSnapshot, counts: dict, kind: str) -> Post:
        mentioned = tuple(
            dict.fromkeys(
                e["id"]
                for e in obj.get("entities") or []
                if e.get("type") == "user" and isinstance(e.get("id"), str) and e["id"] != account.account_id
            )
        )
        return Post(
            post_id=obj["id"],
            account_id=account.account_id,
            created_at=_time(obj["createdAt"]),
            payload={**obj, "kind": kind},
            reaction_counts={word: _count(obj, path) for word, path in counts.items()},
            mentioned_account_ids=mentioned,
        )


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=FoursquareClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="FOURSQUARE",
    credentials_required=True,  # every user endpoint needs the owner's token
    person_tokens_env=TOKENS_ENV,
    reaction_types=("like", "comment"),
    anonymous_counts=("todo", "done"),
    account_counts={"followers_count": "$.friends.count", "posts_count": "$.checkins.count"},
    max_requests=500,  # per token and hour; one budget for every token here, so never more than that
    per_seconds=3600,
)
