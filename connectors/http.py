"""Shared HTTP layer: one `requests.Session` per network with retries, timeouts, a rate budget,
secret-safe errors and declarative pagination."""

from __future__ import annotations

import email.utils
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from connectors.pagination import Paginator, dig
from connectors.ratelimit import BudgetExhausted, RateBudget

__version__ = "0.1.0"
USER_AGENT = f"open-klout/{__version__} (+https://github.com/open-klout; data-engineering connector)"
RETRY_STATUSES = (429, 500, 502, 503, 504)

log = logging.getLogger(__name__)


class ConnectorError(Exception):
    """A call failed for good; names what failed so the failure can be reported per account."""

    def __init__(self, network: str, endpoint: str, account: str | None, message: str):
        self.network, self.endpoint, self.account, self.message = network, endpoint, account, message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.network} {self.endpoint} (account {self.account or '-'}): {self.message}"


class HttpStatusError(ConnectorError):
    """The server answered with a non-success status (after retries, when retryable); `body` is
    the error body's JSON when it has one (some APIs say why only there: YouTube's `reason`)."""

    def __init__(self, network, endpoint, account, message, *, status: int, body: Any = None):
        self.status, self.body = status, body
        super().__init__(network, endpoint, account, message)


class TransportError(ConnectorError):
    """No usable answer: connection failure or timeout, after retries."""


class MalformedResponse(ConnectorError):
    """The body is not the JSON we expected (truncated, invalid, or missing the items)."""


class RateBudgetError(ConnectorError):
    """The rate budget would have to wait longer than allowed (e.g. a spent daily quota)."""


class NotConnected(ConnectorError):
    """We hold no usable credentials for this account (an API that reads only its owner's data,
    and the owner has not connected it, or revoked it): the account is skipped, not failed."""


# --- secrets -----------------------------------------------------------------------------------

_SECRET_PARAM = re.compile(r"([?&;][^=&#\s]*(?:key|token|secret|password|sig)[^=&#\s]*=)[^&#\s]*", re.I)


class _RedactSecrets(logging.Filter):
    """Scrubs known secrets from urllib3's own log records (it logs full URLs, query included)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_REDACTOR = _RedactSecrets()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response"):
    logging.getLogger(_name).addFilter(_REDACTOR)


def redact(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """Remove secret values and any query parameter named like a key or token."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _SECRET_PARAM.sub(r"\1***", text)


def credentials_from_env(prefix: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Read `<PREFIX>_TOKEN` / `<PREFIX>_API_KEY` so callers never hard-code secrets."""
    found = {"token": environ.get(f"{prefix}_TOKEN"), "api_key": environ.get(f"{prefix}_API_KEY")}
    return {name: value for name, value in found.items() if value}


# --- retries -----------------------------------------------------------------------------------


class TrafficStats:
    """What a client sent and how long it waited on rate limits (its budget's pauses and the
    Retry-After pauses of throttled answers), summed over every thread using the client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.waited_seconds = 0.0

    def add(self, requests: int = 0, waited_seconds: float = 0.0) -> None:
        with self._lock:
            self.requests += requests
            self.waited_seconds += waited_seconds

    def snapshot(self) -> tuple[int, float]:
        with self._lock:
            return self.requests, self.waited_seconds


class PacedRetry(Retry):
    """urllib3 `Retry` whose pauses go through an injectable sleep and clock.

    The pause (Retry-After, else exponential backoff with jitter) is taken inside `increment()`
    and `sleep()` is a no-op: urllib3 always calls `sleep()` right after `increment()`, but test
    doubles such as `responses` drive retries through `increment()` only.
    """

    def __init__(
        self,
        *args: Any,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.pause, self.clock = sleep, clock
        self.stats: TrafficStats | None = None

    def new(self, **kw: Any) -> PacedRetry:
        fresh = super().new(**kw)
        fresh.pause, fresh.clock, fresh.stats = self.pause, self.clock, self.stats
        return fresh

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None) -> PacedRetry:
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        retry_after = (
            self.get_retry_after(response) if response is not None and self.respect_retry_after_header else None
        )
        delay = retry_after if retry_after is not None else fresh.get_backoff_time()
        log.warning(
            "retrying %s after %s; waiting %.2fs",
            method or "GET",
            getattr(response, "status", None) or type(error).__name__,
            delay,
        )
        if self.stats is not None:  # the retry is one more request; a throttled answer's pause is a wait
            self.stats.add(requests=1, waited_seconds=delay if getattr(response, "status", None) == 429 else 0.0)
        if delay > 0:
            self.pause(delay)
        return fresh

    def sleep(self, response=None) -> None:
        """Already paused in `increment()`."""

    def sleep_for_retry(self, response) -> bool:
        return False

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds or HTTP-date, measured against the injected clock."""
        if retry_after.strip().isdigit():
            seconds = float(retry_after)
        else:
            parsed = email.utils.parsedate_tz(retry_after)
            if parsed is None:
                return 0.0
            seconds = email.utils.mktime_tz(parsed) - self.clock()
        return min(max(seconds, 0.0), self.retry_after_max)


class _Transient(Exception):
    """A failure worth another attempt that urllib3 did not retry itself."""

    def __init__(self, error: ConnectorError):
        self.error = error


# --- client ------------------------------------------------------------------------------------


class HttpClient:
    """GET JSON from one network's API: timeouts and retries on every call, a proactive rate
    budget (when none is given, one that learns from the server's headers), errors that name
    network / endpoint template / account and never carry the token or API key."""

    def __init__(
        self,
        network: str,
        base_url: str,
        *,
        token: str | None = None,
        api_key: str | None = None,
        api_key_param: str | None = None,
        timeout: tuple[float, float] = (5, 30),
        retries: int = 5,
        backoff_factor: float = 0.5,
        budget: RateBudget | None = None,
        user_agent: str = USER_AGENT,
        max_pages: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.network = network
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.budget = budget if budget is not None else RateBudget(clock=clock, sleep=sleep)
        self.max_pages = max_pages
        self._secrets = frozenset(s for s in (token, api_key) if s)
        _REDACTOR.secrets.update(self._secrets)
        self.retry = PacedRetry(
            total=retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,
            sleep=sleep,
            clock=clock,
        )
        self.stats = TrafficStats()
        self.retry.stats = self.stats
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=self.retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if api_key:
            if not api_key_param:
                raise ValueError("api_key needs api_key_param (the query parameter that carries it)")
            self.session.params = {api_key_param: api_key}

    def add_secrets(self, *secrets: str) -> None:
        """More values to keep out of errors and urllib3's logs (per-person tokens)."""
        self._secrets = self._secrets | {s for s in secrets if s}
        _REDACTOR.secrets.update(self._secrets)

    def get(
        self,
        endpoint: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        account: str | None = None,
        cost: int = 1,
    ) -> Any:
        """Decoded JSON of `GET endpoint`.

        `endpoint` is the path template (`/api/v1/accounts/:id`) that errors name; `path_params`
        fill it.
        """
        target = self.base_url + _fill(endpoint, path_params or {})
        return self._fetch(target, params, endpoint, account, cost)[0]

    def paginate(
        self,
        endpoint: str,
        paginator: Paginator,
        *,
        items_path: str | None,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        account: str | None = None,
        cost: int = 1,
    ) -> Iterator[list[Any]]:
        """Yield pages of items; a page is fully fetched and decoded before it is yielded, so a
        malformed page yields nothing."""
        target = self.base_url + _fill(endpoint, path_params or {})
        params = dict(params or {})
        for _ in range(self.max_pages):
            body, response = self._fetch(target, params, endpoint, account, cost)
            items = dig(body, items_path)
            if not isinstance(items, list):
                raise MalformedResponse(
                    self.network, endpoint, account, f"expected a list at {items_path or 'the top level'}"
                )
            yield items
            following = paginator.next_page(response, body, items, params)
            if following is None:
                return
            next_url, params = following
            target = next_url or target
        raise ConnectorError(self.network, endpoint, account, f"more than {self.max_pages} pages")

    def _fetch(
        self, target: str, params: Mapping[str, Any] | None, endpoint: str, account: str | None, cost: int
    ) -> tuple[Any, requests.Response]:
        """One logical GET. Transport errors urllib3 did not retry itself (e.g. a timeout while
        reading the body) and undecodable bodies get more attempts under the same policy."""
        policy = self.retry
        while True:
            try:
                return self._attempt(target, params, endpoint, account, cost)
            except _Transient as transient:
                try:
                    policy = policy.increment(method="GET", url=endpoint, error=transient.error)
                except MaxRetryError:
                    raise transient.error from None

    def _attempt(
        self, target: str, params: Mapping[str, Any] | None, endpoint: str, account: str | None, cost: int
    ) -> tuple[Any, requests.Response]:
        def fail(kind: type[ConnectorError], message: str, **extra: Any) -> ConnectorError:
            return kind(self.network, endpoint, account, redact(message, self._secrets), **extra)

        try:
            waited = self.budget.acquire(cost)
        except BudgetExhausted as exc:
            raise fail(RateBudgetError, str(exc)) from None
        self.stats.add(requests=1, waited_seconds=waited or 0.0)
        headers, body = None, None
        try:
            log.debug("GET %s (account %s)", endpoint, account or "-")
            try:
                response = self.session.get(target, params=params, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = fail(TransportError, f"{type(exc).__name__}: {exc}")
                if _already_retried(exc):
                    raise error from None
                raise _Transient(error) from None
            headers = response.headers
            if response.status_code >= 400:
                body = _json_or_none(response)  # the rate signals read error bodies too
                raise fail(
                    HttpStatusError,
                    f"HTTP {response.status_code}: {response.text[:300]}",
                    status=response.status_code,
                    body=body,
                )
            try:
                body = response.json()
            except ValueError as exc:
                raise _Transient(fail(MalformedResponse, f"undecodable JSON body ({exc})")) from None
            return body, response
        finally:
            self.budget.settle(headers, body if isinstance(body, dict) else None)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _already_retried(exc: Exception) -> bool:
    """True when urllib3 gave up after its own retries (requests wraps a MaxRetryError)."""
    return any(isinstance(arg, MaxRetryError) for arg in exc.args)


def _fill(template: str, path_params: Mapping[str, str]) -> str:
    return re.sub(r":(\w+)", lambda m: quote(str(path_params[m.group(1)]), safe=""), template)
