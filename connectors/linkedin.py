"""LinkedIn Community Management API client (versioned REST, https://api.linkedin.com/rest/).

Every request carries `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`
(LinkedIn refuses a request without them) and a bearer token (`LINKEDIN_TOKEN`). Ids are URNs
(`urn:li:organization:123`, `urn:li:person:abc`, `urn:li:share:…` / `urn:li:ugcPost:…`),
URL-encoded when they sit in a path.

An account is an organization (handle: its vanity name, `organizations?q=vanityName`; followers
from `networkSizes`) or a member (handle: the member's URN, as Sign In with LinkedIn gives it;
`people/(id:…)`). Its posts come from the `posts?q=author` finder, newest first, each page's
counters from one `socialMetadata` batch get. Reactions name their actor and time
(`reactions/(entity:…)?q=entity`), and so do comments (`socialActions/{urn}/comments`).
Mentions are the `@[Name](urn)` annotations of a post's commentary.

Rate limits are daily (per application and per member), renewed at midnight UTC and published
in no header: the budget spends `SPEC.daily_units` proactively, and a 429 naming a DAY limit
means the day is spent (`day_limit_signal`), so it is not retried. Any other 429 is retried
with backoff by the client itself (urllib3 does not retry 429 here, so a spent day costs one
call, not six).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from connectors.http import ConnectorError, HttpClient, HttpStatusError
from connectors.ingest import AccountSnapshot, Post, Reaction
from connectors.ratelimit import RateSignal
from connectors.registry import NetworkSpec

NETWORK = "linkedin"
DEFAULT_BASE_URL = "https://api.linkedin.com"
API = "/rest"
VERSION = "202511"  # LinkedIn-Version: each version is served for about a year
RESTLI = "2.0.0"
# LinkedIn shows each application's day limits in its developer portal and publishes no default;
# this is the budget the client spends before LinkedIn would refuse (docs/contracts.md).
DAILY_UNITS = 100_000
PAGE = 100  # count= of every collection here (LinkedIn's maximum for these finders)
REACTION, COMMENT = "reaction", "comment"
REACTION_TYPES = ("LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT")
DAY_LIMIT = re.compile(r"\bDAY limit\b", re.I)
# little text: @[Display Name](urn:li:organization:123) marks a mention in a post's commentary
MENTION = re.compile(r"@\[(?:[^\]\\]|\\.)*\]\((urn:li:(?:person|organization):[^)\s]+)\)")
PERSON = "urn:li:person:"
ORGANIZATION = "urn:li:organization:"


class AccountNotFound(HttpStatusError):
    """No organization has this vanity name (LinkedIn answers an empty collection)."""


def is_day_limit(body: Any) -> bool:
    """A LinkedIn 429 body saying an APPLICATION or MEMBER DAY limit is reached."""
    return isinstance(body, Mapping) and body.get("status") == 429 and bool(DAY_LIMIT.search(str(body.get("message"))))


def day_limit_signal(headers: Mapping[str, str], body: Mapping[str, Any], now: float) -> RateSignal | None:
    """A DAY limit = nothing left until the next midnight UTC (LinkedIn's quota day)."""
    if not is_day_limit(body):
        return None
    midnight = datetime.combine(datetime.fromtimestamp(now, UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
    return RateSignal(remaining=0, reset_at=midnight.timestamp())


def encode(urn: str) -> str:
    """A URN as Rest.li 2.0 wants it inside a query value or a List(...): every reserved char encoded."""
    return quote(urn, safe="")


class LinkedInClient:
    network = NETWORK

    def __init__(self, http: HttpClient, throttle_retries: int = 4):
        self.http = http
        self.throttle_retries = throttle_retries
        if http is not None:
            http.session.headers.update({"LinkedIn-Version": VERSION, "X-Restli-Protocol-Version": RESTLI})
            # 429s are told apart here (a DAY limit is final), so urllib3 must hand them over
            http.retry.status_forcelist = frozenset(s for s in http.retry.status_forcelist if s != 429)

    # --- native endpoints ---

    def call(
        self, endpoint: str, query: str = "", *, path_params: Mapping[str, str] | None = None, account=None
    ) -> Any:
        """One GET. `query` is already encoded (Rest.li's `List(...)` and `(key:value)` stay literal).
        A 429 that is not a DAY limit is retried with backoff; a DAY limit raises at once."""
        attempt = 0
        while True:
            try:
                return self.http.get(endpoint, path_params=path_params, params=query or None, account=account)
            except HttpStatusError as exc:
                if exc.status != 429 or is_day_limit(exc.body) or attempt >= self.throttle_retries:
                    raise
                delay = self.http.retry.backoff_factor * 2**attempt
                self.http.stats.add(waited_seconds=delay)
                self.http.retry.pause(delay)
                attempt += 1

    def collection(
        self, endpoint: str, query: str, *, path_params: Mapping[str, str] | None = None, account=None
    ) -> Iterator[list[dict]]:
        """`elements` of each page, paging by `start`/`count` until `paging.total` (or, without one,
        a short page) is reached; an empty page always ends the walk."""
        start = 0
        for _ in range(self.http.max_pages):
            paging = f"start={start}&count={PAGE}"
            body = self.call(
                endpoint, f"{query}&{paging}" if query else paging, path_params=path_params, account=account
            )
            elements = body.get("elements") if isinstance(body, dict) else None
            if not isinstance(elements, list):
                raise ConnectorError(self.network, endpoint, account, "expected a collection with elements")
            yield elements
            start += len(elements)
            total = (body.get("paging") or {}).get("total")
            # paging.total, when given, says whether more follow; else a short page is the last
            if not elements or (start >= total if isinstance(total, int) else len(elements) < PAGE):
                return
        raise ConnectorError(self.network, endpoint, account, f"more than {self.http.max_pages} pages")

    def organization_by_vanity(self, vanity: str) -> dict[str, Any]:
        body = self.call(f"{API}/organizations", f"q=vanityName&vanityName={quote(vanity, safe='')}", account=vanity)
        elements = body.get("elements") or []
        if not elements:
            raise AccountNotFound(self.network, f"{API}/organizations", vanity, "no organization", status=404)
        return elements[0]

    def follower_count(self, organization_urn: str) -> dict[str, Any]:
        return self.call(
            f"{API}/networkSizes/:urn",
            "edgeType=COMPANY_FOLLOWED_BY_MEMBER",
            path_params={"urn": organization_urn},
            account=organization_urn,
        )

    def person(self, person_urn: str) -> dict[str, Any]:
        person_id = person_urn.removeprefix(PERSON)
        return self.call(f"{API}/people/(id::id)", path_params={"id": person_id}, account=person_urn)

    def posts(self, author_urn: str) -> Iterator[list[dict]]:
        """The author's posts, newest first (sortBy=CREATED)."""
        yield from self.collection(
            f"{API}/posts", f"q=author&author={encode(author_urn)}&sortBy=CREATED", account=author_urn
        )

    def social_metadata(self, urns: list[str], *, account=None) -> dict[str, dict]:
        """Reaction and comment summaries of several posts in one batch get."""
        if not urns:
            return {}
        ids = ",".join(encode(u) for u in urns)
        body = self.call(f"{API}/socialMetadata", f"ids=List({ids})", account=account)
        return body.get("results") or {}

    def reactions_on(self, entity_urn: str, *, account=None) -> Iterator[dict]:
        for page in self.collection(
            f"{API}/reactions/(entity::entity)",
            "q=entity&sort=(value:REVERSE_CHRONOLOGICAL)",
            path_params={"entity": entity_urn},
            account=account,
        ):
            yield from page

    def comments_on(self, entity_urn: str, *, account=None) -> Iterator[dict]:
        for page in self.collection(
            f"{API}/socialActions/:urn/comments", "", path_params={"urn": entity_urn}, account=account
        ):
            yield from page

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        """A member by URN (`urn:li:person:…`), else an organization by vanity name."""
        if handle.startswith(PERSON):
            profile = self.person(handle)
            urn = PERSON + str(profile.get("id") or handle.removeprefix(PERSON))
            return AccountSnapshot(urn, urn, {**profile, "$URN": urn})
        organization = self.organization_by_vanity(handle)
        urn = ORGANIZATION + str(organization["id"])
        size = self.follower_count(urn)
        return AccountSnapshot(urn, organization.get("vanityName") or handle, {**organization, "networkSize": size})

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        for page in self.posts(account.account_id):
            page = [p for p in page if p.get("lifecycleState", "PUBLISHED") == "PUBLISHED"]
            meta = self.social_metadata([p["id"] for p in page], account=account.handle)
            for post in page:
                summary = meta.get(post["id"]) or {}
                reactions = sum(int(r.get("count") or 0) for r in (summary.get("reactionSummaries") or {}).values())
                comments = int((summary.get("commentSummary") or {}).get("count") or 0)
                yield Post(
                    post_id=post["id"],
                    account_id=post.get("author") or account.account_id,
                    created_at=from_ms(post.get("publishedAt") or post["createdAt"]),
                    payload=post,
                    reaction_counts={REACTION: reactions, COMMENT: comments},
                    mentioned_account_ids=self._mentions(post, account),
                )

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        """Reactions (every type) and comments, by their actors; the author's own are no reactions."""
        if reaction_type == REACTION:
            items = self.reactions_on(post.post_id, account=post.account_id)
        elif reaction_type == COMMENT:
            items = self.comments_on(post.post_id, account=post.account_id)
        else:
            return
        for item in items:
            created = item.get("created") or {}
            actor = item.get("actor") or created.get("actor")
            if actor and actor != post.account_id and created.get("time") is not None:
                yield Reaction(actor, from_ms(created["time"]), item)

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """Member and organization URNs at any depth: whole values (author, actor, created.actor)
        and the mentions inside a commentary."""
        if isinstance(payload, dict):
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)
        elif isinstance(payload, str):
            if payload.startswith((PERSON, ORGANIZATION)) and " " not in payload:
                yield payload
            else:
                yield from MENTION.findall(payload)

    # --- helpers ---

    @staticmethod
    def _mentions(post: dict[str, Any], account: AccountSnapshot) -> tuple[str, ...]:
        found: list[str] = []
        for urn in MENTION.findall(post.get("commentary") or ""):
            if urn != account.account_id and urn not in found:
                found.append(urn)
        return tuple(found)


def from_ms(value: int | str) -> datetime:
    """LinkedIn times are epoch milliseconds."""
    return datetime.fromtimestamp(int(value) / 1000, UTC)


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=LinkedInClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="LINKEDIN",
    credentials_required=True,  # every call needs a member's OAuth token (LINKEDIN_TOKEN)
    reaction_types=(REACTION, COMMENT),
    account_counts={"followers_count": "$.networkSize.firstDegreeSize"},
    daily_units=DAILY_UNITS,
    quota_timezone="UTC",
    rate_signals=day_limit_signal,
)
