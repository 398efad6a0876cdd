"""Collect one day of one network, counting every reaction once (see docs/contracts.md).

Network clients translate their native API into the small vocabulary below (`AccountSnapshot`,
`Post`, `Reaction`), so this module holds the day/window/dedup rules exactly once.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from connectors.http import ConnectorError, NotConnected
from connectors.privacy import PrivacyGate

log = logging.getLogger(__name__)

ReactionKey = tuple[str, str, str, str]  # (network, post_id, reactor_account_id, reaction_type)


@dataclass(frozen=True)
class AccountSnapshot:
    account_id: str
    handle: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Post:
    """One post by a tracked account; `reaction_counts` maps native reaction word -> the post's own
    count, used to skip endpoints that would return nothing."""

    post_id: str
    account_id: str
    created_at: datetime
    payload: dict[str, Any]
    reaction_counts: dict[str, int]
    mentioned_account_ids: tuple[str, ...] = ()
    replied_to_account_id: str | None = None  # the author of the post this one answers


@dataclass(frozen=True)
class Reaction:
    reactor_account_id: str
    reacted_at: datetime | None  # None when the API gives no time
    payload: dict[str, Any]
    reactor_is_private: bool = False  # the network's own flag (Mastodon `locked`)


class NetworkClient(Protocol):
    network: str

    def resolve_account(self, handle: str) -> AccountSnapshot: ...

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        """The account's own posts, newest first."""

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]: ...

    def account_is_private(self, account_id: str) -> bool:
        """The network's own privacy flag of any account (a mentioned one, say); optional: a
        client without it has no private accounts."""

    def accounts_named(self, payload: dict[str, Any]) -> Iterator[str]:
        """Every account id a native payload names (author, mentioned, replied to, quoted);
        optional: without it, payloads are kept as fetched."""


class ResolvedOnce:
    """`client` whose successful `resolve_account` answers are kept, for one day's landing: the
    privacy gate resolves every tracked handle, and the collect that follows reads the same
    accounts, so each is fetched once a day instead of twice (fewer requests to retry or wait
    for). A failed resolution is not kept: the collect tries again and reports it."""

    def __init__(self, client: NetworkClient):
        self._client = client
        self._resolved: dict[str, AccountSnapshot] = {}

    def resolve_account(self, handle: str) -> AccountSnapshot:
        if handle not in self._resolved:
            self._resolved[handle] = self._client.resolve_account(handle)
        return self._resolved[handle]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass(frozen=True)
class AccountFailure:
    network: str
    handle: str
    endpoint: str
    message: str

    def __str__(self) -> str:
        return f"{self.network} account {self.handle} failed at {self.endpoint}: {self.message}"


@dataclass
class DayBatch:
    """Rows for one partition, shaped exactly like the raw tables."""

    network: str
    day: date
    accounts: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)
    failures: list[AccountFailure] = field(default_factory=list)


def parse_time(value: str) -> datetime:
    """ISO 8601 (`Z` or offset) -> aware UTC datetime."""
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def to_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def reaction_key(row: dict[str, Any]) -> ReactionKey:
    return row["network"], row["post_id"], row["reactor_account_id"], row["reaction_type"]


def collect_day(
    network_client: NetworkClient,
    handles: Iterable[str],
    day: date,
    *,
    lookback_days: int = 7,
    seen_reaction_keys: set[ReactionKey],
    privacy: PrivacyGate | None = None,
    workers: int = 1,
) -> DayBatch:
    """Fetch partition `day`: posts created on `day`, new reactions to posts of the lookback
    window, mentions of `day`'s posts. Each handle is all-or-nothing: a failing handle becomes an
    `AccountFailure` and contributes no rows, so landing keeps its previous rows."""
    network = network_client.network
    batch = DayBatch(network, day)
    fetched_at = datetime.now(UTC)
    seen_per_post = Counter((post_id, reaction_type) for _, post_id, _, reaction_type in seen_reaction_keys)
    gate = privacy or PrivacyGate(network)

    def collect(handle: str):
        try:
            return _collect_account(
                network_client, handle, day, lookback_days, seen_reaction_keys, seen_per_post, fetched_at, gate
            )
        except NotConnected as exc:  # nothing of it can be read: skipped, not failed
            log.warning("skipping %s account %s: not connected (%s)", network, handle, exc.message)
            return None, [], [], []
        except ConnectorError as exc:
            log.warning("skipping %s account %s: %s", network, handle, exc)
            return AccountFailure(network, handle, exc.endpoint, str(exc))

    handles = list(handles)
    # Accounts are fetched concurrently (the client's rate budget is shared and thread-safe);
    # results are taken in handle order, so the batch is the same whatever the timing.
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(handles) or 1))) as pool:
        outcomes = list(pool.map(collect, handles))
    for outcome in outcomes:
        if isinstance(outcome, AccountFailure):
            batch.failures.append(outcome)
            continue
        account, posts, reactions, counts = outcome
        if account is None:
            continue  # an unmeasured account behind a handle we were asked to track
        batch.accounts.append(account)
        batch.posts.extend(posts)
        batch.reactions.extend(reactions)
        batch.counts.extend(counts)
    return batch


def _collect_account(
    client: NetworkClient,
    handle: str,
    day: date,
    lookback_days: int,
    seen: set[ReactionKey],
    seen_per_post: Counter,
    fetched_at: datetime,
    privacy: PrivacyGate,
):
    network = client.network
    window_start = datetime.combine(day - timedelta(days=lookback_days), time.min, UTC)
    day_start = datetime.combine(day, time.min, UTC)
    day_end = day_start + timedelta(days=1)  # exclusive: "<= end of day"
    stamp = {"partition_day": day, "fetched_at": fetched_at}

    account = client.resolve_account(handle)
    if privacy.excludes(account.account_id):  # unmeasured, or not measured today (private, unconsented)
        return None, [], [], []
    flag = getattr(client, "account_is_private", None)

    def is_private(account_id: str) -> bool:
        """The network's flag, asked only of accounts other than the one being fetched (it passed the gate)."""
        return bool(flag and account_id != account.account_id and not privacy.allows(account_id) and flag(account_id))

    named_in = getattr(client, "accounts_named", None)

    def hidden_in(payload: dict[str, Any], exempt: str | None = None) -> set[str]:
        """Accounts the payload names (mentioned, replied to, quoted) that we may not keep."""
        named = set(named_in(payload)) if named_in else set()
        return {a for a in named - {exempt} if privacy.excludes(a) or privacy.excludes(a, is_private(a))}

    def keep_to_measured(payload: dict[str, Any], exempt: str | None = None) -> Any:
        return without_accounts(payload, hidden_in(payload, exempt))

    account_row = {
        "network": network,
        "account_id": account.account_id,
        "handle": account.handle,
        **stamp,
        "payload": to_json(account.payload),
    }
    posts: list[dict[str, Any]] = []
    reactions: dict[tuple[str, ...], dict[str, Any]] = {}
    counts: list[dict[str, Any]] = []
    anonymous = _anonymous_words(network)

    def add_reaction(
        post: Post,
        reaction_type: str,
        reactor: str,
        reacted_at: datetime | None,
        payload: dict[str, Any],
        target: str,
        *,
        reactor_is_private: bool = False,
        target_is_private: bool = False,
    ) -> None:
        row = {
            "network": network,
            "post_id": post.post_id,
            "target_account_id": target,
            "reactor_account_id": reactor,
            "reaction_type": reaction_type,
            "reacted_at": reacted_at,
            "source_account_id": account.account_id,
            **stamp,
            "payload": to_json(keep_to_measured(payload, exempt=reactor)),
        }
        # before the seen check: stored keys are gated keys
        row = privacy.gate_reaction(row, reactor_is_private=reactor_is_private, target_is_private=target_is_private)
        if row is None or reaction_key(row) in seen:
            return
        identity = (*reaction_key(row), target)  # a post may mention several accounts
        earlier = reactions.get(identity)
        if earlier is None or _earlier(reacted_at, earlier["reacted_at"]):
            reactions[identity] = row

    for post in client.recent_posts(account):
        if post.created_at < window_start:
            break
        if post.created_at >= day_end:
            continue  # newer than the partition (ingesting a past day)
        if post.created_at >= day_start:
            hidden = hidden_in(post.payload)
            payload = without_accounts(post.payload, hidden)  # who it mentions is theirs to keep
            posts.append(
                {
                    "network": network,
                    "post_id": post.post_id,
                    "account_id": post.account_id,
                    "created_at": post.created_at,
                    **stamp,
                    "payload": to_json(payload),
                }
            )
            for mentioned in post.mentioned_account_ids:
                add_reaction(
                    post,
                    "mention",
                    post.account_id,
                    post.created_at,
                    payload,
                    mentioned,
                    target_is_private=mentioned in hidden,
                )
        for reaction_type, count in post.reaction_counts.items():
            if reaction_type in anonymous:
                if count > 0:  # the day's observation of a count that names nobody
                    counts.append(
                        {
                            "network": network,
                            "post_id": post.post_id,
                            "account_id": post.account_id,
                            "reaction_type": reaction_type,
                            "total": int(count),
                            **stamp,
                            "payload": to_json({"count": int(count)}),
                        }
                    )
                continue
            if count <= seen_per_post[(post.post_id, reaction_type)]:
                continue  # the post's own counter shows nothing new: spare the API call
            for reaction in client.reactions(post, reaction_type):
                if reaction.reacted_at is None or reaction.reacted_at < day_end:
                    add_reaction(
                        post,
                        reaction_type,
                        reaction.reactor_account_id,
                        reaction.reacted_at,
                        reaction.payload,
                        post.account_id,
                        reactor_is_private=reaction.reactor_is_private,
                    )
    return account_row, posts, list(reactions.values()), counts


def _anonymous_words(network: str) -> frozenset[str]:
    """The network's words counted on posts only (its SPEC), none for a network without one."""
    from connectors import NETWORKS  # the registry imports every client module, which imports this one

    spec = NETWORKS.get(network)
    return frozenset(spec.anonymous_counts) if spec is not None else frozenset()


def without_accounts(payload: Any, account_ids: set[str]) -> Any:
    """The payload without what names `account_ids`: an object that names one directly (a mention
    entity, a facet feature, a quoted post's author) is left out whole, handle and name with it,
    and so is a field holding one."""
    if not account_ids:
        return payload

    def names(value: Any) -> bool:
        return (isinstance(value, str) and value in account_ids) or (
            isinstance(value, dict) and any(isinstance(x, str) and x in account_ids for x in value.values())
        )

    if isinstance(payload, dict):
        return {k: without_accounts(v, account_ids) for k, v in payload.items() if not names(v)}
    if isinstance(payload, list):
        return [without_accounts(v, account_ids) for v in payload if not names(v)]
    return payload


def _earlier(candidate: datetime | None, current: datetime | None) -> bool:
    return candidate is not None and (current is None or candidate < current)
