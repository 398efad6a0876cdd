"""What every dialect shares: the reply type, parameter parsing, timestamps, id bisection."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right  # noqa: F401 (re-exported: dialects page by sorted keys)
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import numpy as np
import pandas as pd

TAG_RE = re.compile(r"#(\w+)")


@dataclass(frozen=True)
class NetworkDialect:
    """Everything the sandbox knows of one network, in the network's own module: how its API is
    served and how its accounts, posts and reactions look in a generated world."""

    name: str
    joined: int  # worlds generate networks in this order, so an added network leaves the draws before it alone
    path_prefix: str | tuple[str, ...]  # the API's path prefix(es) on the sandbox's one port
    handler: type  # built with a WorldIndex; .route(path, query, clock_ms, base_url) -> Reply
    invalid_status: int  # how the API answers bad parameters
    error_body: Callable[[str, str], dict]  # (code, message) -> the API's error body
    rate_headers: Callable[[int, int, float, float], dict[str, str]]  # (limit, remaining, reset epoch, window s)
    reaction_mix: tuple[tuple[str, float], ...]  # native reaction words and their shares
    # (rng, account numbers, handle stems, private share) -> (account ids, handles, is_private)
    accounts: Callable
    post_ids: Callable  # (ms, rank within the day, day bits, author account ids) -> native post ids
    sort_key: Callable[[str], object]  # native order of post ids
    content_ids: bool = False  # posts carry a content id (cid)
    # Reaction words the API serves only as a count on the post (Instagram likes, Facebook shares):
    # the world draws them with their reactors like any other, and the API never names who.
    anonymous: tuple[str, ...] = ()
    # The network's shape in a generated world: the share of multi-network people who also have an
    # account here (everyone has one primary network), and how often its accounts post and how many
    # reactions a post draws, relative to the world's posts_per_day and reactions_per_post.
    adoption: float = 1.0
    posts_rate: float = 1.0
    reactions_rate: float = 1.0
    # Whether the server's fixed request window (RateLimitConfig) limits this network: True for an
    # API that announces its window (rate_headers); False for one that publishes no short-term
    # limit a client could pace to (YouTube: only its daily quota).
    rate_window: bool = True
    # How the API refuses a request for its short-term rate limit (and an injected "429" fault):
    # None = HTTP 429 with error_body, the rate headers and Retry-After; else (seconds until the
    # window resets, the fault's variant or None for a spent window) -> the Reply, headers included.
    throttle_reply: Callable[[float, int | None], Reply] | None = None
    # A daily quota in units (YouTube), renewed at midnight in quota_timezone: each request costs
    # unit_cost(path, query) units, and a spent quota is answered with quota_reply().
    daily_units: int | None = None
    quota_timezone: str = "America/Los_Angeles"
    unit_cost: Callable[[str, dict], int] = lambda path, query: 1
    quota_reply: Callable[[], Reply] | None = None
    # Optional answers of the API's own before routing, for networks that have them:
    # (request headers) -> a refusal, or None (Wikimedia refuses requests without a descriptive User-Agent)
    refuse: Callable[[Mapping[str, str]], Reply | None] | None = None
    # (request target, limit, remaining, seconds to reset) -> the API's own "slow down" before its hard
    # limit, or None (MediaWiki answers `maxlag` errors with Retry-After while its replicas lag)
    pushback: Callable[[str, int, int, float], Reply | None] | None = None
    # (fault kind, request target, variant) -> the network's own rendering of an injected fault, or None
    fault_reply: Callable[[str, str, int], Reply | None] | None = None
    # (the world's posts, this network's reactions) -> the reactions as the API can tell them apart,
    # for a network whose API hides what a reaction is for (MediaWiki's thanks name no revision)
    settle_reactions: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None
    # (account ids) -> each account's community, for a network whose accounts live on separate
    # sites that never meet (Khoros: each community its own site): reactors and mentioned accounts
    # are drawn from the author's community only. None: the network is one community.
    community: Callable[[np.ndarray], np.ndarray] | None = None
    # An API that reads only its owner's data (Foursquare): nobody else's account can be tracked,
    # so the world lists no public accounts for it, and its token store, (world) -> handle -> token
    # of each person who connected the network, is served at /_sandbox/tokens/<network>.
    public_accounts: bool = True
    person_tokens: Callable | None = None


def random_strings(rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray | None = None) -> np.ndarray:
    """n random strings of `length` chars, built without a Python loop."""
    alphabet = B32 if alphabet is None else alphabet
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    return np.ascontiguousarray(chars).view(f"<U{length}").ravel()


B32 = np.array(list("abcdefghijklmnopqrstuvwxyz234567"))
B32_SORT = np.array(list("234567abcdefghijklmnopqrstuvwxyz"))


@dataclass
class Reply:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """Raised by handlers for invalid parameters; rendered in the dialect's error shape."""


def iso_ms(ms: int) -> str:
    """Mastodon/atproto timestamp style: 2019-12-08T03:48:33.901Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def date_param(query: dict) -> date:
    try:
        return datetime.strptime(query.get("date", ""), "%Y-%m-%d").date()
    except ValueError:
        raise BadRequest("date=YYYY-MM-DD is required") from None


def int_param(query: dict, name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    return max(lo, min(hi, value))


def int_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("ids are numeric") from None


def page_url(base: str, path: str, query: dict, **override) -> str:
    params = {k: v for k, v in query.items() if k not in ("max_id", "min_id", "since_id")}
    params.update(override)
    return f"{base}{path}?{urlencode(params)}"
