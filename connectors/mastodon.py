"""Mastodon REST v1 client (https://docs.joinmastodon.org/methods/)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.http import HttpClient, HttpStatusError
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.pagination import LinkHeaderPaginator
from connectors.registry import NetworkSpec

NETWORK = "mastodon"
DEFAULT_BASE_URL = "https://mastodon.social"
_LINK = LinkHeaderPaginator()
# native reaction word -> the status field counting it
REACTION_COUNTS = {"favourite": "favourites_count", "reblog": "reblogs_count", "reply": "replies_count"}


class MastodonClient:
    network = NETWORK

    def __init__(self, http: HttpClient):
        self.http = http
        self._locked: dict[str, bool] = {}

    # --- native endpoints ---

    def lookup_account(self, acct: str) -> dict[str, Any]:
        return self.http.get("/api/v1/accounts/lookup", params={"acct": acct}, account=acct)

    def account(self, account_id: str) -> dict[str, Any]:
        return self.http.get("/api/v1/accounts/:id", path_params={"id": account_id}, account=account_id)

    def statuses(
        self, account_id: str, *, since_id: str | None = None, max_id: str | None = None, limit: int = 40
    ) -> Iterator[dict[str, Any]]:
        """Newest first; lazy, so a caller that stops early fetches no further pages."""
        params = {"limit": limit, "since_id": since_id, "max_id": max_id}
        yield from self._items(
            "/api/v1/accounts/:id/statuses", account_id, account_id, {k: v for k, v in params.items() if v is not None}
        )

    def favourited_by(self, status_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        yield from self._items("/api/v1/statuses/:id/favourited_by", status_id, account, {"limit": 80})

    def reblogged_by(self, status_id: str, *, account: str | None = None) -> Iterator[dict[str, Any]]:
        yield from self._items("/api/v1/statuses/:id/reblogged_by", status_id, account, {"limit": 80})

    def context(self, status_id: str, *, account: str | None = None) -> list[dict[str, Any]]:
        """Direct replies to the status (descendants also hold replies to replies)."""
        body = self.http.get("/api/v1/statuses/:id/context", path_params={"id": status_id}, account=account)
        return [s for s in body.get("descendants", []) if s.get("in_reply_to_id") == status_id]

    def _items(
        self, endpoint: str, object_id: str, account: str | None, params: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        for page in self.http.paginate(
            endpoint, _LINK, items_path=None, path_params={"id": object_id}, params=params, account=account
        ):
            yield from page

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        found = self.lookup_account(handle)
        self._locked[found["id"]] = bool(found.get("locked"))  # today's word, for the privacy gate
        return AccountSnapshot(found["id"], found.get("acct") or handle, found)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        for status in self.statuses(account.account_id):
            yield Post(
                post_id=status["id"],
                account_id=status["account"]["id"],
                created_at=parse_time(status["created_at"]),
                payload=status,
                reaction_counts={word: status.get(field) or 0 for word, field in REACTION_COUNTS.items()},
                mentioned_account_ids=tuple(m["id"] for m in status.get("mentions") or ()),
                replied_to_account_id=status.get("in_reply_to_account_id"),
            )

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        account = post.account_id
        if reaction_type == "favourite":
            people = self.favourited_by(post.post_id, account=account)
        elif reaction_type == "reblog":
            people = self.reblogged_by(post.post_id, account=account)
        else:
            for reply in self.context(post.post_id, account=account):
                yield Reaction(
                    reply["account"]["id"],
                    parse_time(reply["created_at"]),
                    reply,
                    reactor_is_private=bool(reply["account"].get("locked")),
                )
            return
        for person in people:  # Mastodon gives no time for favourites and reblogs
            yield Reaction(person["id"], None, person, reactor_is_private=bool(person.get("locked")))

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """Account objects (they carry `acct`) and `in_reply_to_account_id`, at any depth."""
        if isinstance(payload, dict):
            if "acct" in payload and isinstance(payload.get("id"), str):
                yield payload["id"]
            if isinstance(payload.get("in_reply_to_account_id"), str):
                yield payload["in_reply_to_account_id"]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    def account_is_private(self, account_id: str) -> bool:
        """`locked`, asked once per account and client; an account that cannot be read counts as private."""
        if account_id not in self._locked:
            try:
                self._locked[account_id] = bool(self.account(account_id).get("locked"))
            except HttpStatusError as exc:
                if exc.status not in (404, 410):
                    raise
                self._locked[account_id] = True
        return self._locked[account_id]


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=MastodonClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="MASTODON",
    reaction_types=tuple(REACTION_COUNTS),
    account_counts={
        "followers_count": "followers_count",
        "following_count": "following_count",
        "posts_count": "statuses_count",
    },
    max_requests=300,
    per_seconds=300,
)
