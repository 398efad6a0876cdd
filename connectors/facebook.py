"""Facebook Pages client (Graph API: https://developers.facebook.com/docs/graph-api/).

A page is read by username or id (`fan_count`, `followers_count`), its posts through
`/{page-id}/posts` (newest first), who reacted through `/{post-id}/reactions` (a Profile with the
reaction `type`; no time) and who commented through `/{post-id}/comments` (`from`,
`created_time`). Shares are a count on the post (`shares.count`) that names nobody: they stay in
`Post.reaction_counts` and are never landed as rows.

Paging: `{"data": [...], "paging": {"cursors": {"before", "after"}, "next"}}`; `next` is absent on
the last page, and the next page is the same edge with `after`.

Rate limits: Meta publishes usage, not a budget: `X-App-Usage` (percentages of the app's limit)
and `X-Business-Use-Case-Usage` (per business object: percentages and
`estimated_time_to_regain_access`, minutes). `meta_rate_signal` turns them into a `RateSignal`;
throttled calls fail with error codes 4, 17, 32, 613 (80001/80002 for Pages/Instagram business
use cases) in the `{"error": {...}}` body, with HTTP 400 or 403 and no Retry-After, so the HTTP
layer does not retry them and `GraphApi` does, after the budget has waited what the usage headers
announce (bounded by its `max_wait`: a longer regain time fails the call instead).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.http import HttpClient, HttpStatusError, MalformedResponse
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.ratelimit import RateSignal
from connectors.registry import NetworkSpec

NETWORK = "facebook"
DEFAULT_BASE_URL = "https://graph.facebook.com"
VERSION = "v21.0"
# Graph API error codes meaning "throttled: try again later"
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
# Usage (percent) at which the budget stops and waits for the usage to fall: headroom for the
# other users of the same app or page.
USAGE_CEILING = 95
# How long one usage reading stands for: past it, the budget sends again and reads a new level.
USAGE_READING_S = 1.0
THROTTLE_RETRIES = 5

PAGE_FIELDS = "id,name,username,about,category,link,fan_count,followers_count,verification_status"
POST_FIELDS = (
    "id,created_time,message,message_tags,from,permalink_url,status_type,shares,"
    "reactions.summary(total_count).limit(0),comments.filter(toplevel).summary(total_count).limit(0)"
)
REACTION_FIELDS = "id,name,type,profile_type"
COMMENT_FIELDS = "id,from,message,created_time,like_count,comment_count,parent"
# native reaction word -> how the post counts it (a path into the post); `share` names nobody
REACTION_COUNTS = {"reaction": "reactions.summary.total_count", "comment": "comments.summary.total_count"}
ANONYMOUS_COUNTS = {"share": "shares.count"}


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def meta_rate_signal(headers: Mapping[str, str], body: Mapping[str, Any], now: float) -> RateSignal | None:
    """Meta's usage headers as a `RateSignal`: requests left in percentage points below
    `USAGE_CEILING` of the most used dimension (calls, CPU time, total time; app or business use
    case), a reading good for `USAGE_READING_S`, and a back-off of
    `estimated_time_to_regain_access` minutes when Meta announces one."""
    usages: list[float] = []
    regain_minutes = 0.0
    app = _json_header(headers.get("x-app-usage"))
    if isinstance(app, dict):
        usages += [_number(app.get(k)) for k in ("call_count", "total_cputime", "total_time")]
    for name in ("x-business-use-case-usage", "x-ad-account-usage"):
        buc = _json_header(headers.get(name))
        values = buc.values() if isinstance(buc, dict) else ()
        entries = [e for v in values for e in (v if isinstance(v, list) else [v])]
        for entry in entries:
            if isinstance(entry, dict):
                usages += [_number(entry.get(k)) for k in ("call_count", "total_cputime", "total_time")]
                regain_minutes = max(regain_minutes, _number(entry.get("estimated_time_to_regain_access")))
    if not usages and not regain_minutes:
        return None
    used = max(usages, default=0.0)
    return RateSignal(
        remaining=max(0, int(USAGE_CEILING - used)),
        limit=USAGE_CEILING,
        reset_at=now + USAGE_READING_S,
        reset_exact=True,  # our reading's age, not a reset Meta announced: no slack on top
        backoff_seconds=regain_minutes * 60,
    )


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


_CODE = re.compile(r'"code"\s*:\s*(\d+)|\(#(\d+)\)')


def throttle_code(error: HttpStatusError) -> int | None:
    """The Graph API error code of a throttled call, read from the error body, else None."""
    for match in _CODE.finditer(error.message):
        code = int(match.group(1) or match.group(2))
        if code in THROTTLE_CODES:
            return code
    return None


class GraphApi:
    """What the Graph API networks (Facebook Pages, Instagram) share: versioned node and edge
    reads, cursor paging and retries of the throttling error codes."""

    version = VERSION

    def __init__(self, http: HttpClient):
        self.http = http

    def node(self, node_id: str, fields: str | None = None, *, account: str | None = None, **params: Any) -> Any:
        query = {**({"fields": fields} if fields else {}), **params}
        return self._get(f"/{self.version}/:id", node_id, query, account)

    def edge(
        self, node_id: str, edge: str, fields: str | None = None, *, account: str | None = None, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """The edge's items, page after page (`after` while the page has a `next`); lazy."""
        endpoint = f"/{self.version}/:id/{edge}"
        query = {**({"fields": fields} if fields else {}), **{k: v for k, v in params.items() if v is not None}}
        for _ in range(self.http.max_pages):
            body = self._get(endpoint, node_id, query, account)
            items = body.get("data") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise MalformedResponse(self.http.network, endpoint, account, "expected a list at data")
            yield from items
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after or not items or after == query.get("after"):
                return
            query = {**query, "after": after}
        raise MalformedResponse(self.http.network, endpoint, account, f"more than {self.http.max_pages} pages")

    def _get(self, endpoint: str, node_id: str, params: dict[str, Any], account: str | None) -> Any:
        """One read; a throttled answer (error codes 4/17/32/613/8000x) is tried again after the
        back-off the usage headers announced (the budget waits it) or an exponential pause."""
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                return self.http.get(endpoint, path_params={"id": node_id}, params=params, account=account)
            except HttpStatusError as exc:
                if attempt == THROTTLE_RETRIES or throttle_code(exc) is None:
                    raise
                self.http.retry.pause(self.http.retry.backoff_factor * 2**attempt)
        raise AssertionError("unreachable")


class FacebookClient(GraphApi):
    network = NETWORK

    # --- native endpoints ---

    def page(self, page: str) -> dict[str, Any]:
        """A Page by username or id."""
        return self.node(page, PAGE_FIELDS, account=page)

    def page_posts(
        self, page_id: str, *, since: int | None = None, until: int | None = None, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """The page's own posts, newest first; `since`/`until` are unix seconds."""
        yield from self.edge(page_id, "posts", POST_FIELDS, account=page_id, limit=limit, since=since, until=until)

    def post_reactions(self, post_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        """Profiles with the reaction `type` (LIKE, LOVE, WOW, HAHA, SAD, ANGRY, CARE...)."""
        yield from self.edge(post_id, "reactions", REACTION_FIELDS, account=account, limit=100)

    def post_comments(self, post_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        """Top-level comments, oldest first."""
        yield from self.edge(
            post_id, "comments", COMMENT_FIELDS, account=account, filter="toplevel", order="chronological", limit=100
        )

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        found = self.page(handle)
        return AccountSnapshot(found["id"], found.get("username") or handle, found)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        for post in self.page_posts(account.account_id):
            counts = {**REACTION_COUNTS, **ANONYMOUS_COUNTS}
            yield Post(
                post_id=post["id"],
                account_id=(post.get("from") or {}).get("id") or account.account_id,
                created_at=parse_time(post["created_time"]),
                payload=post,
                reaction_counts={word: int(_dig(post, path) or 0) for word, path in counts.items()},
                mentioned_account_ids=tuple(
                    tag["id"] for tag in post.get("message_tags") or () if tag.get("type") in ("page", "user", None)
                ),
            )

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        account = post.account_id
        if reaction_type == "reaction":  # the API gives no reaction time
            for profile in self.post_reactions(post.post_id, account=account):
                yield Reaction(profile["id"], None, profile)
        elif reaction_type == "comment":
            for comment in self.post_comments(post.post_id, account=account):
                author = comment.get("from") or {}
                if author.get("id") and author["id"] != account:  # the page answering its own post
                    yield Reaction(author["id"], parse_time(comment["created_time"]), comment)
        # shares: a count only (`shares.count`), nobody to land

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """Profiles (objects with `id` and `name`: `from`, message tags, reacting profiles), at any depth."""
        if isinstance(payload, dict):
            if isinstance(payload.get("id"), str) and "name" in payload:
                yield payload["id"]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)


def _dig(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=FacebookClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="FACEBOOK",
    credentials_required=True,  # every call needs an access token
    reaction_types=tuple(REACTION_COUNTS),
    anonymous_counts=tuple(ANONYMOUS_COUNTS),
    account_counts={"followers_count": "followers_count"},
    # Pages business use case: 4800 calls per engaged user per 24 h; start slower until Meta's
    # usage headers say how much is used
    max_requests=200,
    per_seconds=3600,
    rate_signals=meta_rate_signal,
)
