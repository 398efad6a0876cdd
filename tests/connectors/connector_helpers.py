"""Shared test helpers: a fake clock, payload builders shaped like the official examples (the
fixtures in tests/fixtures/payloads are copies of them) and client factories."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.bluesky import BlueskyClient
from connectors.http import HttpClient
from connectors.mastodon import MastodonClient

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
MASTODON = "https://mastodon.test"
BLUESKY = "https://bsky.test"
TOKEN = "s3cr3t-t0ken-value"


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


class FakeClock:
    """Time that only moves when someone sleeps, so retries and rate waits cost nothing."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def http(network: str, base_url: str, clock: FakeClock, **options: Any) -> HttpClient:
    return HttpClient(network, base_url, sleep=clock.sleep, clock=clock.time, **options)


def mastodon_client(clock: FakeClock, **options: Any) -> MastodonClient:
    return MastodonClient(http("mastodon", MASTODON, clock, token=TOKEN, **options))


def bluesky_client(clock: FakeClock, **options: Any) -> BlueskyClient:
    return BlueskyClient(http("bluesky", BLUESKY, clock, **options))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snowflake(moment: datetime, seq: int = 0) -> str:
    return str((int(moment.timestamp() * 1000) << 16) + seq)


def m_account(account_id: str, acct: str | None = None, followers: int = 10) -> dict[str, Any]:
    account = payload("mastodon/account.json")
    account.update(
        id=account_id, username=acct or f"user{account_id}", acct=acct or f"user{account_id}", followers_count=followers
    )
    return account


def m_status(
    author: dict[str, Any],
    created: datetime,
    *,
    seq: int = 0,
    favourites: int = 0,
    reblogs: int = 0,
    replies: int = 0,
    mentions: tuple[str, ...] = (),
    in_reply_to: str | None = None,
) -> dict[str, Any]:
    status = payload("mastodon/status.json")
    status_id = snowflake(created, seq)
    status.update(
        id=status_id,
        created_at=iso(created),
        account=copy.deepcopy(author),
        uri=f"{MASTODON}/users/{author['acct']}/statuses/{status_id}",
        favourites_count=favourites,
        reblogs_count=reblogs,
        replies_count=replies,
        in_reply_to_id=in_reply_to,
        in_reply_to_account_id=None,
        mentions=[
            {"id": m, "username": f"user{m}", "acct": f"user{m}", "url": f"{MASTODON}/@user{m}"} for m in mentions
        ],
    )
    return status


def b_did(n: int) -> str:
    return "did:plc:" + f"{n:024d}".translate(str.maketrans("0123456789", "abcdefghij"))


def b_profile(did: str, handle: str | None = None, followers: int = 10) -> dict[str, Any]:
    profile = payload("bluesky/profile.json")
    profile.update(did=did, handle=handle or f"{did[-6:]}.bsky.social", followersCount=followers)
    return profile


def b_author(did: str) -> dict[str, Any]:
    return {"did": did, "handle": f"{did[-6:]}.bsky.social", "displayName": did[-6:], "labels": []}


def b_post(
    did: str,
    created: datetime,
    rkey: str,
    *,
    likes: int = 0,
    reposts: int = 0,
    replies: int = 0,
    quotes: int = 0,
    mentions: tuple[str, ...] = (),
    reply_to: str | None = None,
) -> dict[str, Any]:
    post = payload("bluesky/post_view.json")
    uri = f"at://{did}/app.bsky.feed.post/{rkey}"
    record = post["record"]
    record.update(createdAt=iso(created), text=f"post {rkey}")
    record["facets"] = [
        {"index": {"byteStart": 0, "byteEnd": 5}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": m}]}
        for m in mentions
    ]
    if reply_to:
        parent = {"uri": reply_to, "cid": "bafyparent"}
        record["reply"] = {"root": parent, "parent": parent}
    post.update(
        uri=uri,
        cid=f"bafy{rkey}",
        author=b_author(did),
        indexedAt=iso(created),
        likeCount=likes,
        repostCount=reposts,
        replyCount=replies,
        quoteCount=quotes,
    )
    return post
