"""Proactive, thread-safe rate budget: wait *before* a request that the server would refuse.

It learns the budget from whatever the API publishes:
- `X-RateLimit-Limit/Remaining/Reset` — reset as an ISO timestamp (Mastodon) or epoch seconds
  (GitHub); Reddit's `X-Ratelimit-Used/Remaining/Reset` gives seconds until reset;
- X's `x-rate-limit-limit/-remaining/-reset` (epoch seconds);
- IETF `RateLimit-Limit/Remaining/Reset/Policy` — reset as epoch seconds (Bluesky) or delta
  seconds (IETF draft); numeric resets are told apart by magnitude;
- body fields `backoff` / `quota_remaining` / `quota_max` (Stack Exchange, daily quota);
- a configured daily unit quota with a cost per call (YouTube, no headers at all);
- anything else through a network's own parser (`signals`, returning a `RateSignal`), e.g. Meta's
  usage percentages;
- a configured client-side cap `max_requests` per `per_seconds`, used until the server has
  told us its own numbers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

_EPOCH_THRESHOLD = 1_000_000_000  # a numeric reset above this is a timestamp, not a delta
_POLL = 0.05  # wait when only in-flight requests hold the budget


@dataclass(frozen=True)
class RateSignal:
    """What one response says of the budget, in a network's own terms, normalised: requests left
    (or None), the window's size, when it renews (epoch seconds), and a wait the server asks for."""

    remaining: int | None = None
    limit: int | None = None
    reset_at: float | None = None
    backoff_seconds: float = 0.0
    # `reset_at` is a time we set on our own clock (how long a reading stands), not one a server
    # announced and may have rounded: the window renews exactly then, without the reset slack
    reset_exact: bool = False


class BudgetExhausted(Exception):
    """Waiting for the budget would take longer than `max_wait`."""


class RateBudget:
    """Call `acquire(cost)` before each request and `settle(headers, body)` once after it."""

    def __init__(
        self,
        *,
        max_requests: int | None = None,
        per_seconds: float | None = None,
        daily_units: int | None = None,
        quota_timezone: str = "America/Los_Angeles",
        safety_margin: int = 1,
        unknown_reset_wait: float = 60.0,
        reset_slack: float = 1.0,
        max_wait: float | None = 3600.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        signals: Callable[[Mapping[str, str], Mapping[str, Any], float], RateSignal | None] | None = None,
    ):
        if (max_requests is None) != (per_seconds is None):
            raise ValueError("max_requests and per_seconds go together")
        self.max_requests, self.per_seconds = max_requests, per_seconds
        self.daily_units, self.quota_zone = daily_units, ZoneInfo(quota_timezone)
        self.safety_margin, self.unknown_reset_wait, self.max_wait = safety_margin, unknown_reset_wait, max_wait
        # Servers round their reset times (to the second, or the millisecond) and clocks drift:
        # a window is only taken as renewed this long after its announced reset.
        self.reset_slack = reset_slack
        self._slack = reset_slack  # the current window's: none when its reset is our own (RateSignal.reset_exact)
        self._clock, self._sleep = clock, sleep
        self._signals = signals
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._backoff_until = 0.0
        self._in_flight = 0
        self._sent: deque[float] = deque()
        self._units_used = 0
        self._units_day = None

    def acquire(self, cost: int = 1) -> float:
        """Block until one more request (costing `cost` quota units) fits, then reserve it; return
        the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now, cost)
                if wait <= 0:
                    self._in_flight += 1
                    self._sent.append(now)
                    self._units_used += cost
                    return waited
            if self.max_wait is not None and wait > self.max_wait:
                raise BudgetExhausted(f"rate budget spent; next slot in {wait:.0f}s")
            log.info("rate budget: waiting %.2fs", wait)
            self._sleep(wait)
            waited += wait

    def settle(self, headers: Mapping[str, str] | None = None, body: Mapping[str, Any] | None = None) -> None:
        """Mark the reserved request done and learn from what the server said."""
        with self._lock:
            now = self._clock()
            self._in_flight = max(0, self._in_flight - 1)
            learned = (
                self._learn_headers(headers or {}, now)
                | self._learn_body(body or {}, now)
                | self._learn_signal(headers or {}, body or {}, now)
            )
            if not learned and self._remaining is not None:
                self._remaining -= 1

    def _wait_needed(self, now: float, cost: int) -> float:
        self._roll(now)
        waits = [self._backoff_until - now]
        if self._remaining is not None:
            if self._remaining - self.safety_margin < 1:
                waits.append(self._reset_at + self._slack - now if self._reset_at else self.unknown_reset_wait)
            elif self._remaining - self.safety_margin - self._in_flight < 1:
                waits.append(_POLL)
        elif self.max_requests is not None:
            while self._sent and self._sent[0] <= now - self.per_seconds:
                self._sent.popleft()
            if len(self._sent) + self._in_flight >= self.max_requests:
                waits.append(self._sent[0] + self.per_seconds - now if self._sent else _POLL)
        if self.daily_units is not None and self._units_used + cost > self.daily_units:
            if cost > self.daily_units:
                raise BudgetExhausted(f"a call costing {cost} units exceeds the daily quota")
            waits.append(self._next_midnight(now, self.quota_zone) - now)
        return max(waits)

    def _roll(self, now: float) -> None:
        """Start a new window once the announced reset has passed."""
        if self._reset_at is not None and now >= self._reset_at + self._slack:
            self._remaining, self._reset_at = self._limit, None
        day = datetime.fromtimestamp(now, self.quota_zone).date()
        if day != self._units_day:
            self._units_day, self._units_used = day, 0

    def _learn_headers(self, headers: Mapping[str, str], now: float) -> bool:
        lower = {k.lower(): v for k, v in headers.items()}
        if "retry-after" in lower and lower["retry-after"].strip().isdigit():
            self._backoff_until = max(self._backoff_until, now + float(lower["retry-after"]))
        for prefix in ("x-ratelimit-", "x-rate-limit-", "ratelimit-"):
            remaining = lower.get(prefix + "remaining")
            if remaining is None:
                continue
            remaining_n = int(float(remaining))
            limit = lower.get(prefix + "limit")
            used = lower.get(prefix + "used")
            if limit is not None:
                self._limit = int(float(limit.split(",")[0].split(";")[0]))
            elif used is not None:
                self._limit = int(float(used)) + remaining_n
            reset_at = self._parse_reset(lower.get(prefix + "reset"), now)
            if reset_at is None:
                reset_at = self._policy_window(lower.get(prefix + "policy"), now)
            self._observe(remaining_n, reset_at, now)
            return True
        return False

    def _learn_body(self, body: Mapping[str, Any], now: float) -> bool:
        if body.get("backoff"):
            self._backoff_until = max(self._backoff_until, now + float(body["backoff"]))
        if body.get("quota_remaining") is None:
            return False
        if body.get("quota_max") is not None:
            self._limit = int(body["quota_max"])
        self._observe(int(body["quota_remaining"]), self._next_midnight(now, UTC), now)
        return True

    def _learn_signal(self, headers: Mapping[str, str], body: Mapping[str, Any], now: float) -> bool:
        """What a network's own parser (its SPEC's `rate_signals`) reads from a response."""
        if self._signals is None:
            return False
        signal = self._signals({k.lower(): v for k, v in headers.items()}, body, now)
        if signal is None:
            return False
        if signal.backoff_seconds:
            self._backoff_until = max(self._backoff_until, now + signal.backoff_seconds)
        if signal.remaining is None:
            return False
        if signal.limit is not None:
            self._limit = signal.limit
        self._observe(signal.remaining, signal.reset_at, now, slack=0.0 if signal.reset_exact else None)
        return True

    def _observe(self, remaining: int, reset_at: float | None, now: float, slack: float | None = None) -> None:
        """Responses of one window can arrive out of order: keep the lowest remaining. A response
        about a window that is already over (it was in flight across the reset) says nothing about
        the current one; adopting its past reset would refill the budget early."""
        if reset_at is not None and (reset_at <= now or (self._reset_at is not None and reset_at < self._reset_at - 1)):
            return
        same_window = reset_at is None or self._reset_at is None or abs(reset_at - self._reset_at) < 1
        if same_window and self._remaining is not None:
            remaining = min(remaining, self._remaining)
        self._remaining = remaining
        if reset_at is not None:
            self._reset_at, self._slack = reset_at, self.reset_slack if slack is None else slack

    @staticmethod
    def _parse_reset(value: str | None, now: float) -> float | None:
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            return datetime.fromisoformat(value.strip()).timestamp()
        if number > _EPOCH_THRESHOLD * 1000:
            return number / 1000
        return number if number > _EPOCH_THRESHOLD else now + number

    @staticmethod
    def _policy_window(value: str | None, now: float) -> float | None:
        """`RateLimit-Policy: 300;w=300`: without a reset, the window bounds the wait."""
        for part in (value or "").split(";"):
            name, _, window = part.strip().partition("=")
            if name == "w" and window.isdigit():
                return now + int(window)
        return None

    @staticmethod
    def _next_midnight(now: float, zone) -> float:
        local = datetime.fromtimestamp(now, zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
        return midnight.timestamp()
