"""LinkedIn's Community Management API (versioned REST under `/rest/`), as the sandbox serves it.

Accounts are organizations (`urn:li:organization:<n>`, found by vanity name, followers from
`networkSizes`) and members (`urn:li:person:<id>`, read by id: LinkedIn has no member lookup by
name, so a member's handle is the URN Sign In with LinkedIn gives). Posts are `urn:li:share:<n>`
or `urn:li:ugcPost:<n>`, the number LinkedIn's time-ordered activity id (epoch ms << 22). What
people do to a post is react (one reaction per member: LIKE, PRAISE, EMPATHY, INTEREST,
APPRECIATION or ENTERTAINMENT, drawn per reaction) or comment; both name their actor and time.
Commentary is LinkedIn's "little text": mentions `@[Name](urn)`, hashtags `{hashtag|\\#|tag}`,
reserved characters escaped.

Every request needs `LinkedIn-Version: YYYYMM` (missing: 400 VERSION_MISSING; sunset or
malformed: 426 NONEXISTENT_VERSION) and `X-Restli-Protocol-Version: 2.0.0` (else 400). Rate
limits are day limits renewed at midnight UTC with no header; a spent day is a 429 naming the
APPLICATION DAY limit. Errors are `{"status", "serviceErrorCode", "code", "message"}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote

import numpy as np
import pandas as pd

from sandbox.dialects.common import NetworkDialect, Reply, int_param, random_strings
from sandbox.index import WorldIndex

PREFIX = "/rest/"
PERSON, ORGANIZATION = "urn:li:person:", "urn:li:organization:"
FIRST_VERSION = 202411  # older LinkedIn-Version values are sunset (426)
DAILY_UNITS = 100_000
ORGANIZATION_SHARE = 0.25
B62 = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
# each reaction's type, by its sequence number: shares roughly as LinkedIn's feed shows them
REACTION_TYPES = (
    ("LIKE", 60),
    ("PRAISE", 12),
    ("EMPATHY", 8),
    ("INTEREST", 10),
    ("APPRECIATION", 6),
    ("ENTERTAINMENT", 4),
)
_TYPE_OF = np.repeat([t for t, _ in REACTION_TYPES], [w for _, w in REACTION_TYPES])
_MIX = 0x9E3779B97F4A7C15
_MASK = 2**64 - 1
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
DAY_LIMIT_MESSAGE = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, service_code: int = 100):
        super().__init__(message)
        self.reply = Reply(status, _error(status, code, message, service_code))


def _error(status: int, code: str, message: str, service_code: int = 100) -> dict:
    return {"status": status, "serviceErrorCode": service_code, "code": code, "message": message}


_GENERIC = {  # the server's generic error codes -> (status, LinkedIn code, serviceErrorCode)
    "RateLimitExceeded": (429, "TOO_MANY_REQUESTS", 101),
    "InternalServerError": (500, "INTERNAL_SERVER_ERROR", 0),
    "InvalidRequest": (400, "ILLEGAL_ARGUMENT", 100),
}


def _error_body(code: str, message: str) -> dict:
    status, name, service = _GENERIC.get(code, (400, "ILLEGAL_ARGUMENT", 100))
    return _error(status, name, message, service)


def _refuse(headers: Mapping[str, str]) -> Reply | None:
    """LinkedIn answers nothing without its version and protocol headers."""
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    version = lower.get("linkedin-version")
    if not version:
        return Reply(
            400,
            _error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            ),
        )
    if not re.fullmatch(r"20\d{4}", version) or int(version) < FIRST_VERSION or not 1 <= int(version[4:]) <= 12:
        return Reply(426, _error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active"))
    if lower.get("x-restli-protocol-version") != "2.0.0":
        return Reply(
            400, _error(400, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version: 2.0.0 is required for versioned APIs")
        )
    return None


def _quota_spent() -> Reply:
    return Reply(429, _error(429, "TOO_MANY_REQUESTS", DAY_LIMIT_MESSAGE, 101))


def _fault(kind: str, target: str, variant: int) -> Reply | None:
    """Injected faults in LinkedIn's body: a 429 throttle that names no DAY limit, or a 5xx."""
    if kind == "429":
        return Reply(429, _error(429, "TOO_MANY_REQUESTS", "Too many requests. Please retry later.", 101))
    if kind in ("500", "502", "503"):
        return Reply(int(kind), _error(int(kind), "INTERNAL_SERVER_ERROR", "Internal Server Error", 0))
    return None


def _paging(start: int, count: int, total: int) -> dict:
    return {"start": start, "count": count, "links": [], "total": total}


def activity_number(urn: str) -> int | None:
    tail = urn.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _escape(text: str) -> str:
    return _RESERVED.sub(r"\\\1", text)


def commentary(text: str, mentions: dict[str, tuple[str, str]]) -> str:
    """The world's text as little text: `@handle` of a mentioned account -> `@[Name](urn)`,
    `#tag` -> `{hashtag|\\#|tag}`, reserved characters escaped."""
    words = []
    for word in text.split(" "):
        if word.startswith("@") and word[1:] in mentions:
            name, urn = mentions[word[1:]]
            words.append("@[" + _escape(name) + "](" + urn + ")")
        elif word.startswith("#") and len(word) > 1:
            words.append("{hashtag|\\#|" + _escape(word[1:]) + "}")
        else:
            words.append(_escape(word))
    return " ".join(words)


class LinkedIn:
    def __init__(self, index: WorldIndex):
        self.ix = index
        self.reactors = index.reactions.reactor_account_id.to_numpy()

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        rest = path.removeprefix(PREFIX)
        resource, _, tail = rest.partition("/")
        try:
            if resource == "organizations" and not tail:
                return self.organizations(query)
            if resource == "networkSizes" and tail:
                return self.network_size(unquote(tail), query)
            if resource == "people" and tail:
                return self.people(unquote(tail))
            if resource == "posts" and not tail:
                return self.posts(query, clock_ms)
            if resource == "socialMetadata":
                return self.social_metadata(unquote(tail), query, clock_ms)
            if resource == "reactions" and tail:
                return self.reactions(unquote(tail), query, clock_ms)
            if resource == "socialActions" and tail.endswith("/comments"):
                return self.comments(unquote(tail.removesuffix("/comments")), query, clock_ms)
        except ApiError as exc:
            return exc.reply
        return Reply(404, _error(404, "RESOURCE_NOT_FOUND", "No virtual resource found", 0))

    # --- accounts

    def _account(self, urn: str) -> dict | None:
        acc = self.ix.account_by_id.get(urn)
        return acc if acc is not None and acc["network"] == "linkedin" else None

    def organizations(self, query: dict) -> Reply:
        if query.get("q") != "vanityName" or not query.get("vanityName"):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "q=vanityName with a vanityName is required")
        acc = self.ix.account_by_handle.get(("linkedin", query["vanityName"].lower()))
        elements = []
        if acc is not None and acc["account_id"].startswith(ORGANIZATION):
            name = acc["display_name"]
            number = int(acc["account_id"].removeprefix(ORGANIZATION))
            elements.append(
                {
                    "vanityName": acc["handle"],
                    "localizedName": name,
                    "name": {"localized": {"en_US": name}, "preferredLocale": {"country": "US", "language": "en"}},
                    "primaryOrganizationType": "NONE",
                    "locations": [],
                    "id": number,
                    "$URN": acc["account_id"],
                }
            )
        return Reply(200, {"elements": elements, "paging": _paging(0, 10, len(elements))})

    def network_size(self, urn: str, query: dict) -> Reply:
        if query.get("edgeType") not in ("COMPANY_FOLLOWED_BY_MEMBER", "CompanyFollowedByMember"):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
        acc = self._account(urn)
        if acc is None or not urn.startswith(ORGANIZATION):
            raise ApiError(404, "RESOURCE_NOT_FOUND", f"Not found: {urn}", 0)
        return Reply(200, {"firstDegreeSize": int(acc["followers_count"])})

    def people(self, key: str) -> Reply:
        match = re.fullmatch(r"\(id:([^)]+)\)", key)
        acc = self._account(PERSON + match.group(1)) if match else None
        if acc is None:
            raise ApiError(404, "RESOURCE_NOT_FOUND", f"Not found: {key}", 0)
        first, _, last = acc["display_name"].partition(" ")
        person_id = acc["account_id"].removeprefix(PERSON)
        return Reply(
            200,
            {
                "id": person_id,
                "localizedFirstName": first,
                "localizedLastName": last,
                "vanityName": f"{first}-{last}-{person_id[:6]}".lower(),
                "localizedHeadline": f"{first} {last} on the sandbox",
            },
        )

    # --- posts

    def _post(self, post: dict) -> dict:
        mentions = {}
        for account_id in post["mentions"]:
            acc = self.ix.account_by_id.get(account_id)
            if acc is not None:
                mentions[acc["handle"]] = (acc["display_name"], account_id)
        return {
            "id": post["post_id"],
            "author": post["account_id"],
            "commentary": commentary(post["text"], mentions),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "lifecycleStateInfo": {"isEditedByAuthor": False},
            "isReshareDisabledByAuthor": False,
            "createdAt": post["ms"],
            "publishedAt": post["ms"],
            "lastModifiedAt": post["ms"],
        }

    def posts(self, query: dict, clock_ms: int) -> Reply:
        if query.get("q") != "author" or not query.get("author"):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "q=author with an author URN is required")
        if query.get("sortBy", "LAST_MODIFIED") not in ("LAST_MODIFIED", "CREATED"):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "sortBy must be LAST_MODIFIED or CREATED")
        if self._account(query["author"]) is None:
            raise ApiError(403, "ACCESS_DENIED", f"Not enough permissions to access: author {query['author']}", 100)
        start, count = _window(query)
        tl = self.ix.account_posts(query["author"])
        visible = tl.visible(clock_ms)
        rows = tl.rows[:visible][::-1][start : start + count]  # posts are never edited: both sorts agree
        elements = [self._post(self.ix.post_at(int(r))) for r in rows]
        return Reply(200, {"elements": elements, "paging": _paging(start, count, visible)})

    def _metadata(self, urn: str, clock_ms: int) -> dict | None:
        post = self.ix.post(urn, clock_ms)
        if post is None or post["network"] != "linkedin":
            return None
        summaries = {}
        for row in self._visible_rows(urn, "reaction", clock_ms):
            kind = self._reaction_type(row)
            summaries.setdefault(kind, {"reactionType": kind, "count": 0})["count"] += 1
        comments = self.ix.count(urn, "comment", clock_ms)
        return {
            "reactionSummaries": summaries,
            "commentsState": "OPEN",
            "commentSummary": {"count": comments, "topLevelCount": comments},
            "entity": urn,
        }

    def social_metadata(self, key: str, query: dict, clock_ms: int) -> Reply:
        if key:  # a single get: /socialMetadata/{urn}
            found = self._metadata(key, clock_ms)
            if found is None:
                raise ApiError(404, "RESOURCE_NOT_FOUND", f"Not found: {key}", 0)
            return Reply(200, found)
        ids = query.get("ids", "")
        if not (ids.startswith("List(") and ids.endswith(")")):
            raise ApiError(400, "ILLEGAL_ARGUMENT", "ids=List(...) is required for a batch get")
        results, statuses, errors = {}, {}, {}
        for urn in filter(None, ids[5:-1].split(",")):
            found = self._metadata(urn, clock_ms)
            if found is None:
                statuses[urn] = 404
                errors[urn] = _error(404, "RESOURCE_NOT_FOUND", f"Not found: {urn}", 0)
            else:
                statuses[urn], results[urn] = 200, found
        return Reply(200, {"results": results, "statuses": statuses, "errors": errors})

    # --- reactions and comments

    def _visible_rows(self, urn: str, rtype: str, clock_ms: int) -> np.ndarray:
        tl = self.ix.reactions_of(urn, rtype)
        return tl.rows[: tl.visible(clock_ms)]

    def _reaction_type(self, row: int) -> str:
        seq = int(self.ix.reactions.seq.iat[row])
        return str(_TYPE_OF[(((seq * _MIX) & _MASK) >> 40) % 100])

    def _entity(self, urn: str, clock_ms: int) -> dict:
        post = self.ix.post(urn, clock_ms)
        if post is None or post["network"] != "linkedin":
            raise ApiError(404, "RESOURCE_NOT_FOUND", f"Not found: {urn}", 0)
        return post

    def reactions(self, key: str, query: dict, clock_ms: int) -> Reply:
        match = re.fullmatch(r"\(entity:(.+)\)", key)
        if match is None or query.get("q") != "entity":
            raise ApiError(400, "ILLEGAL_ARGUMENT", "reactions/(entity:<urn>)?q=entity is required")
        urn = match.group(1)
        self._entity(urn, clock_ms)
        order = query.get("sort", "(value:REVERSE_CHRONOLOGICAL)")
        if order not in ("(value:REVERSE_CHRONOLOGICAL)", "(value:CHRONOLOGICAL)", "(value:RELEVANCE)"):
            raise ApiError(400, "ILLEGAL_ARGUMENT", f"Invalid sort {order}")
        rows = self._visible_rows(urn, "reaction", clock_ms)
        if order != "(value:CHRONOLOGICAL)":
            rows = rows[::-1]
        start, count = _window(query)
        number = activity_number(urn)
        elements = []
        for row in rows[start : start + count]:
            actor, ms = self.reactors[row], int(self.ix.reaction_ms[row])
            stamp = {"actor": actor, "time": ms}
            elements.append(
                {
                    "id": f"urn:li:reaction:({actor},urn:li:activity:{number})",
                    "reactionType": self._reaction_type(int(row)),
                    "created": stamp,
                    "lastModified": dict(stamp),
                    "root": urn,
                }
            )
        return Reply(200, {"elements": elements, "paging": _paging(start, count, len(rows))})

    def comments(self, urn: str, query: dict, clock_ms: int) -> Reply:
        post = self._entity(urn, clock_ms)
        rows = self._visible_rows(urn, "comment", clock_ms)  # oldest first, as LinkedIn lists them
        start, count = _window(query)
        number = activity_number(urn)
        topic = post["topic_slug"].replace("-", " ")
        elements = []
        for row in rows[start : start + count]:
            actor, ms = self.reactors[row], int(self.ix.reaction_ms[row])
            seq = int(self.ix.reactions.seq.iat[row])
            comment_id = str((ms << 22) | (seq & 0x3FFFFF))
            comment_urn = f"urn:li:comment:(urn:li:activity:{number},{comment_id})"
            stamp = {"actor": actor, "time": ms}
            elements.append(
                {
                    "actor": actor,
                    "commentUrn": comment_urn,
                    "$URN": comment_urn,
                    "id": comment_id,
                    "object": urn,
                    "message": {"text": f"Insightful, thanks for sharing on {topic}.", "attributes": []},
                    "created": stamp,
                    "lastModified": dict(stamp),
                }
            )
        return Reply(200, {"elements": elements, "paging": _paging(start, count, len(rows))})


def _window(query: dict) -> tuple[int, int]:
    return int_param(query, "start", 0, 0, 10**9), int_param(query, "count", 10, 1, 100)


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """A quarter organizations (`urn:li:organization:<n>`, handle = vanity name), the rest members
    (`urn:li:person:<10 chars>`, handle = the URN: LinkedIn looks members up by id only). The
    API has no privacy flag: nobody is private."""
    n = len(numbers)
    organization = rng.random(n) < ORGANIZATION_SHARE
    person_ids = "urn:li:person:" + random_strings(rng, n, 10, B62[:62]).astype(object)
    org_ids = np.array([f"{ORGANIZATION}{1_000_000 + 7 * int(k)}" for k in numbers], dtype=object)
    account_id = pd.Series(np.where(organization, org_ids, person_ids), index=stems.index)
    handles = pd.Series(np.where(organization, (stems + "-co").to_numpy(dtype=object), account_id), index=stems.index)
    return account_id.reset_index(drop=True), handles.reset_index(drop=True), np.zeros(n, dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """Activity numbers as LinkedIn makes them (epoch ms << 22, then the day's rank and bits);
    one in three a ugcPost, the rest shares."""
    n = (ms.astype(np.uint64) << np.uint64(22)) | ((rank.astype(np.uint64) % np.uint64(2**19)) << np.uint64(3))
    n = n | np.uint64(day_bits)
    kind = np.where(rank % 3 == 0, "urn:li:ugcPost:", "urn:li:share:").astype(object)
    return kind + n.astype(str).astype(object)


DIALECT = NetworkDialect(
    name="linkedin",
    joined=8,
    path_prefix=PREFIX,
    handler=LinkedIn,
    invalid_status=400,
    error_body=_error_body,
    rate_headers=lambda limit, remaining, reset_epoch, window_s: {},  # LinkedIn publishes no rate headers
    reaction_mix=(("reaction", 0.8), ("comment", 0.2)),
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=lambda post_id: int(post_id.rsplit(":", 1)[-1]),
    adoption=0.5,
    posts_rate=0.4,
    reactions_rate=2.0,
    rate_window=False,  # day limits only: no short-term window a client could pace to
    daily_units=DAILY_UNITS,
    quota_timezone="UTC",
    unit_cost=lambda path, query: 1,
    quota_reply=_quota_spent,
    refuse=_refuse,
    fault_reply=_fault,
)
