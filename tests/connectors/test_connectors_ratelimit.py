import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from connector_helpers import FakeClock, http

from connectors.http import RateBudgetError
from connectors.ratelimit import BudgetExhausted, RateBudget, RateSignal


def budget(clock, **options):
    return RateBudget(clock=clock.time, sleep=clock.sleep, **{"max_wait": None, **options})


def spend(rb, headers=None, body=None, cost=1):
    rb.acquire(cost)
    rb.settle(headers, body)


def iso(ts):
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("style", ["mastodon", "github", "reddit", "bluesky", "ietf-delta", "ietf-policy"])
def test_waits_for_reset_before_exhausting(clock, style):
    reset_in = 120
    headers = {
        "mastodon": {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "2",
            "X-RateLimit-Reset": iso(clock.now + reset_in),
        },
        "github": {
            "x-ratelimit-limit": "60",
            "x-ratelimit-remaining": "2",
            "x-ratelimit-reset": str(int(clock.now + reset_in)),
        },
        "reddit": {"X-Ratelimit-Used": "598", "X-Ratelimit-Remaining": "2.0", "X-Ratelimit-Reset": str(reset_in)},
        "bluesky": {
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "2",
            "RateLimit-Reset": str(int(clock.now + reset_in)),
            "RateLimit-Policy": "3000;w=300",
        },
        "ietf-delta": {"RateLimit-Limit": "100", "RateLimit-Remaining": "2", "RateLimit-Reset": str(reset_in)},
        "ietf-policy": {"RateLimit-Limit": "100", "RateLimit-Remaining": "2", "RateLimit-Policy": f"100;w={reset_in}"},
    }[style]
    rb = budget(clock, safety_margin=1)
    spend(rb, headers)  # learn: 2 left
    rb.acquire()  # 2 - margin 1 -> one more is fine
    assert clock.sleeps == []
    rb.settle({**headers, next(k for k in headers if k.lower().endswith("remaining")): "1"})
    rb.acquire()  # 1 left = the margin: wait for the reset
    assert clock.sleeps == [pytest.approx(reset_in, abs=1)]


class Blocked(Exception):
    pass


def test_in_flight_requests_count_against_remaining(clock):
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        raise Blocked

    rb = RateBudget(clock=clock.time, sleep=sleep, safety_margin=0)
    spend(rb, {"RateLimit-Remaining": "2", "RateLimit-Reset": "60"})
    rb.acquire()
    rb.acquire()
    with pytest.raises(Blocked):  # both slots are in flight: a third request must wait
        rb.acquire()
    assert waits and waits[0] < 1  # ...only until an in-flight request settles


def test_stack_exchange_body_backoff_and_quota(clock):
    rb = budget(clock, safety_margin=0)
    spend(rb, body={"items": [], "backoff": 10, "quota_remaining": 5, "quota_max": 300})
    rb.acquire()
    assert clock.sleeps == [10]
    rb.settle(body={"items": [], "quota_remaining": 0, "quota_max": 300})
    rb.acquire()  # daily quota spent: wait for UTC midnight
    midnight = datetime(2023, 11, 15, tzinfo=UTC).timestamp()
    assert clock.now == pytest.approx(midnight)


def test_youtube_daily_unit_quota(clock):
    rb = budget(clock, daily_units=10)
    for _ in range(3):
        spend(rb, cost=3)
    assert clock.sleeps == []
    spend(rb, cost=3)  # 9 + 3 > 10: wait for Pacific midnight
    pacific = datetime.fromtimestamp(clock.now, ZoneInfo("America/Los_Angeles"))
    assert (pacific.hour, pacific.minute) == (0, 0) and len(clock.sleeps) == 1
    with pytest.raises(BudgetExhausted):
        rb.acquire(cost=11)


def test_client_side_cap_until_headers_are_seen(clock):
    rb = budget(clock, max_requests=3, per_seconds=10)
    for _ in range(3):
        spend(rb)
    spend(rb)
    assert clock.sleeps == [10]


def test_max_wait_turns_into_connector_error(rsps, clock):
    rb = budget(clock, daily_units=1, max_wait=60)
    client = http("youtube", "https://yt.test", clock, budget=rb)
    rsps.get("https://yt.test/v", json={"items": []})
    client.get("/v")
    with pytest.raises(RateBudgetError, match=r"youtube /v \(account chan\): rate budget spent"):
        client.get("/v", account="chan")


class FakeServer:
    """Refuses (429) beyond `limit` requests per fixed window; publishes Mastodon headers."""

    def __init__(self, clock, limit, window):
        self.clock, self.limit, self.window = clock, limit, window
        self.lock = threading.Lock()
        self.served = self.refused = 0
        self.window_start, self.used = clock.now, 0

    def __call__(self, request):
        with self.lock:
            if self.clock.now >= self.window_start + self.window:
                self.window_start, self.used = self.clock.now, 0
            reset = iso(self.window_start + self.window)
            if self.used >= self.limit:
                self.refused += 1
                return 429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, "{}"
            self.used += 1
            self.served += 1
            headers = {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.limit - self.used),
                "X-RateLimit-Reset": reset,
            }
            return 200, headers, '{"ok": true}'


def test_budget_never_exceeds_a_real_window(rsps, clock):
    server = FakeServer(clock, limit=5, window=60)
    rsps.add_callback("GET", "https://m.test/api/v1/x", callback=server)
    client = http("mastodon", "https://m.test", clock, budget=budget(clock), retries=0)
    for _ in range(23):
        client.get("/api/v1/x")
    assert server.refused == 0 and server.served == 23
    assert clock.now - 1_700_000_000 >= 4 * 60  # 4 per window with a margin of 1


def test_budget_is_thread_safe(rsps):
    clock = FakeClock()
    clock_lock = threading.Lock()

    def sleep(seconds):
        """Concurrent sleepers overlap, as in real time: the clock moves to the latest wake-up
        instead of adding every thread's wait."""
        wake = clock.time() + seconds
        with clock_lock:
            clock.now = max(clock.now, wake)

    server = FakeServer(clock, limit=10, window=60)
    rsps.add_callback("GET", "https://m.test/api/v1/x", callback=server)
    rb = RateBudget(clock=clock.time, sleep=sleep)
    client = http("mastodon", "https://m.test", clock, budget=rb, retries=0)
    errors = []

    def worker():
        try:
            for _ in range(5):
                client.get("/api/v1/x")
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and server.refused == 0 and server.served == 40


def test_a_window_is_renewed_only_after_its_reset_plus_slack(clock):
    """Servers round their resets (a Mastodon reset is an ISO time in milliseconds): refilling at
    the announced instant can land requests in the old window."""
    rb = RateBudget(clock=clock.time, sleep=clock.sleep, reset_slack=1.0)
    rb.acquire()
    rb.settle({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(clock.now) + 10)})
    rb.acquire()
    assert clock.sleeps == [pytest.approx(11.0)]  # the clock starts on a whole second


def test_a_reset_of_our_own_clock_is_waited_exactly_then_slack_applies_again(clock):
    """A reading's own expiry (Meta's usage, RateSignal.reset_exact) is not a server's rounded
    reset: no slack on it (a throttled answer would otherwise hold every thread twice as long);
    the next window announced by a server gets its slack back."""
    signal = {"value": RateSignal(remaining=0, limit=95, reset_at=clock.now + 1.0, reset_exact=True)}
    rb = RateBudget(clock=clock.time, sleep=clock.sleep, reset_slack=1.0, signals=lambda h, b, now: signal["value"])
    spend(rb)
    rb.acquire()
    assert clock.sleeps == [pytest.approx(1.0)]
    signal["value"] = None
    rb.settle({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(clock.now) + 10)})
    rb.acquire()
    assert clock.sleeps[1:] == [pytest.approx(11.0)]


def test_a_response_from_a_finished_window_does_not_refill_the_budget(clock):
    rb = RateBudget(clock=clock.time, sleep=clock.sleep)
    start = clock.now
    rb.acquire()
    rb.settle({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": str(start + 100)})
    clock.now = start + 50  # a late answer from a window that ended at start + 40
    rb.acquire()
    rb.settle({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9", "X-RateLimit-Reset": str(start + 40)})
    rb.acquire()
    assert clock.sleeps and clock.sleeps[-1] >= 50  # still waits for the current window's reset
