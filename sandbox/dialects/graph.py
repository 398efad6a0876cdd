"""What the sandbox's Graph API networks (Facebook Pages, Instagram) share: field selection,
cursor paging, Meta's error bodies and usage headers. No DIALECT here: each network has its own
module."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from sandbox.dialects.common import BadRequest, Reply, bisect_left, bisect_right, int_param

# the sandbox's business object, whose usage X-Business-Use-Case-Usage reports
BUSINESS_ID = "100000000000001"
# error code per kind of failure the server reports (sandbox/server.py names them)
ERROR_CODES = {"RateLimitExceeded": (4, "(#4) Application request limit reached"), "InternalServerError": (2, None)}
# Graph API throttling (developers.facebook.com/docs/graph-api/overview/rate-limiting/): the error
# code names the limit hit, the HTTP status is 400 (403 for the user- and page-level codes)
THROTTLES = {
    4: (400, "(#4) Application request limit reached"),
    17: (403, "(#17) User request limit reached"),
    32: (403, "(#32) Page request limit reached"),
    613: (400, "(#613) Calls to this api have exceeded the rate limit."),
    80001: (400, "(#80001) There have been too many calls to this Page account. Wait a bit and try again."),
    80002: (400, "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again."),
}


def graph_time(ms: int) -> str:
    """Graph API timestamps: 2021-08-10T18:45:03+0000 (seconds)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def fields_of(query: dict, default: tuple[str, ...]) -> dict[str, str]:
    """Top-level requested fields -> their expansion (`reactions.summary(total_count).limit(0)`
    -> {"reactions": ".summary(total_count).limit(0)"}); commas inside () or {} do not split."""
    raw = query.get("fields")
    if not raw:
        return {name: "" for name in default}
    out, depth, start = {}, 0, 0
    for i, ch in enumerate(raw + ","):
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch == "," and depth == 0:
            item = raw[start:i].strip()
            if item:
                name = item.split(".", 1)[0].split("{", 1)[0].split("(", 1)[0]
                out[name] = item[len(name) :]
            start = i + 1
    return out


def select(obj: dict, fields: dict[str, str]) -> dict:
    """Only the requested fields (the Graph API always returns `id`); absent values stay absent."""
    return {k: v for k, v in obj.items() if (k in fields or k == "id") and v is not None}


def cursor(key) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def uncursor(raw: str) -> str:
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("(#100) Invalid cursor") from None


def page_of(base: str, path: str, query: dict, items: list, keys: list, more: bool) -> Reply:
    """A `{"data", "paging"}` page: `cursors.before/after` always, `next` only when there is more."""
    body: dict = {"data": items}
    if items:
        paging: dict = {"cursors": {"before": cursor(keys[0]), "after": cursor(keys[-1])}}
        if more:
            params = {k: v for k, v in query.items() if k not in ("after", "before")}
            paging["next"] = f"{base}{path}?{urlencode({**params, 'after': cursor(keys[-1])})}"
        body["paging"] = paging
    return Reply(200, body)


def slice_after(keys, query: dict, default_limit: int, oldest_first: bool) -> tuple[range, bool]:
    """Positions of one page over ascending `keys` and whether more follow: newest first unless
    `oldest_first`; `after` is the last key of the previous page."""
    limit = int_param(query, "limit", default_limit, 1, 100)
    n = len(keys)
    if oldest_first:
        lo = 0
        if query.get("after"):
            lo = bisect_right(keys, _typed(keys, uncursor(query["after"])))
        hi = min(n, lo + limit)
        return range(lo, hi), hi < n
    hi = n
    if query.get("after"):
        hi = bisect_left(keys, _typed(keys, uncursor(query["after"])))
    lo = max(0, hi - limit)
    return range(hi - 1, lo - 1, -1), lo > 0


def _typed(keys, raw: str):
    try:
        return type(keys[0])(raw) if len(keys) else raw
    except (TypeError, ValueError):
        raise BadRequest("(#100) Invalid cursor") from None


def time_param(query: dict, name: str) -> int | None:
    """`since`/`until` as epoch milliseconds: unix seconds or an ISO date/time."""
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(float(raw)) * 1000
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"(#100) The parameter {name} must be a unix time or a date") from None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp() * 1000)


def error_body(code: str, message: str) -> dict:
    """`{"error": {"message", "type", "code", "fbtrace_id"}}` (Graph API errors)."""
    number, text = ERROR_CODES.get(code, (100, None))
    text = text or (message if message.startswith("(#") else f"({'#' + str(number)}) {message}")
    trace = hashlib.blake2b(f"{code}|{message}".encode(), digest_size=9).digest()
    error = {
        "message": text,
        "type": "OAuthException",
        "code": number,
        "fbtrace_id": "A" + base64.urlsafe_b64encode(trace).decode().rstrip("="),
    }
    if number in (2, 4):
        error["is_transient"] = True
    return {"error": error}


def not_found(object_id: str) -> Reply:
    return Reply(
        400,
        {
            "error": {
                "message": (
                    f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due "
                    "to missing permissions, or does not support this operation."
                ),
                "type": "GraphMethodException",
                "code": 100,
                "error_subcode": 33,
                "fbtrace_id": "AsandboxNotFound",
            }
        },
    )


def usage_headers(
    limit: int, remaining: int, reset_epoch: float, window_s: float, use_case: str = "pages"
) -> dict[str, str]:
    """Meta's usage headers: percentages of the window's calls used; once they reach 100, the
    minutes until access returns. `use_case` is the business use case's type (pages, instagram)."""
    used = 100 if limit <= 0 else min(100, math.ceil(100 * (limit - remaining) / limit))
    # whole minutes, to the nearest: the sandbox's windows are seconds long, so mostly 0
    regain = int(max(0.0, reset_epoch - datetime.now(UTC).timestamp()) / 60 + 0.5) if used >= 100 else 0
    time_used = max(0, used // 4)
    app = {"call_count": used, "total_cputime": time_used, "total_time": time_used}
    buc = {
        BUSINESS_ID: [
            {
                "type": use_case,
                "call_count": used,
                "total_cputime": time_used,
                "total_time": time_used,
                "estimated_time_to_regain_access": regain,
            }
        ]
    }
    return {
        "X-App-Usage": json.dumps(app, separators=(",", ":")),
        "X-Business-Use-Case-Usage": json.dumps(buc, separators=(",", ":")),
    }


def throttle_reply(reset_in: float, variant: int | None, *, codes: tuple[int, ...], use_case: str) -> Reply:
    """A throttled call as Meta answers it: an error body with a throttling code and
    `is_transient`, no Retry-After, the usage headers at 100 % with the minutes until access
    returns. A spent window is the business use case's own limit (`codes[0]`); an injected fault
    (`variant`) picks any of `codes`."""
    code = codes[0] if variant is None else codes[variant % len(codes)]
    status, message = THROTTLES[code]
    trace = hashlib.blake2b(f"throttle|{code}|{variant}".encode(), digest_size=9).digest()
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "is_transient": True,
            "fbtrace_id": "A" + base64.urlsafe_b64encode(trace).decode().rstrip("="),
        }
    }
    return Reply(status, body, usage_headers(1, 0, time.time() + reset_in, reset_in, use_case))


def stable_pick(key: str, choices: tuple[str, ...]) -> str:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return choices[int.from_bytes(digest, "big") % len(choices)]
