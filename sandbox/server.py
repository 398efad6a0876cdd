"""Local HTTP server exposing a World in the Mastodon, Bluesky and platform API dialects.

It enforces per-network rate limits and injects deterministic faults so connectors are tested
against the failure modes of the real APIs; a retried request never faults twice in a row, so a
client with sane retries lands exactly `World.ground_truth`.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from sandbox.dialects import BadRequest, Reply, registered
from sandbox.index import WorldIndex, to_ms
from sandbox.platform import Platform
from sandbox.world import World, end_of_day


@dataclass(frozen=True)
class RateLimitConfig:
    """Fixed-window limit per network; generous by default so normal ingests rarely wait."""

    limit: int = 5000
    window_s: float = 10.0
    daily_units: int | None = None  # overrides the daily quota of the networks that have one (YouTube)


@dataclass(frozen=True)
class FaultConfig:
    """A seeded fraction `rate` of requests gets one of `kinds`: 429, 500, 502, 503, slow, truncated."""

    seed: int = 0
    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "503", "slow", "truncated")
    slow_seconds: float = 2.0


PLATFORM_PREFIX = "/platform/v1/"


def network_of(path: str) -> str | None:
    """The network (or "platform") whose API `path` belongs to."""
    for name, dialect in registered().items():
        if path.startswith(dialect.path_prefix):
            return name
    return "platform" if path.startswith(PLATFORM_PREFIX) else None


class _RateLimiter:
    def __init__(self, cfg: RateLimitConfig):
        self.cfg = cfg
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # network -> (window number, used)

    def take(self, network: str) -> tuple[bool, int, float]:
        """Count one request: (allowed, remaining, seconds until the window resets)."""
        now = time.monotonic()
        window = int(now // self.cfg.window_s)
        with self._lock:
            current, used = self._windows.get(network, (window, 0))
            if current != window:
                used = 0
            allowed = used < self.cfg.limit
            used += allowed
            self._windows[network] = (window, used)
        reset_in = (window + 1) * self.cfg.window_s - now
        return allowed, self.cfg.limit - used, reset_in


class _DailyQuota:
    """Units spent per network and quota day (the network's own time zone, wall clock)."""

    def __init__(self, override: int | None):
        self.override = override
        self._lock = threading.Lock()
        self._spent: dict[str, tuple[object, int]] = {}  # network -> (quota day, units spent)

    def take(self, network: str, path: str, query: dict) -> bool:
        """Spend the request's units; False when the day's quota cannot pay for it."""
        dialect = registered().get(network)
        if dialect is None or dialect.daily_units is None:
            return True
        units = self.override if self.override is not None else dialect.daily_units
        cost = dialect.unit_cost(path, query)
        day = datetime.now(ZoneInfo(dialect.quota_timezone)).date()
        with self._lock:
            current, spent = self._spent.get(network, (day, 0))
            if current != day:
                spent = 0
            allowed = spent + cost <= units
            self._spent[network] = (day, spent + cost if allowed else spent)
        return allowed


class _FaultInjector:
    def __init__(self, cfg: FaultConfig):
        self.cfg = cfg
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}
        self._last_faulted: dict[str, bool] = {}

    def decide(self, key: str) -> tuple[str | None, int]:
        """(fault kind or None, a hash for variant choices), deterministic per (key, attempt)."""
        if self.cfg.rate <= 0:
            return None, 0
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
            digest = hashlib.blake2b(f"{self.cfg.seed}|{key}|{attempt}".encode(), digest_size=16).digest()
            u = int.from_bytes(digest[:8], "big") / 2**64
            h = int.from_bytes(digest[8:], "big")
            fault = u < self.cfg.rate and not self._last_faulted.get(key, False)
            self._last_faulted[key] = fault
        return (self.cfg.kinds[h % len(self.cfg.kinds)] if fault else None), h


class SandboxServer:
    """Serve `world` on 127.0.0.1 (free port) from a daemon thread; use as a context manager."""

    def __init__(
        self,
        world: World,
        faults: FaultConfig = FaultConfig(),
        rate_limit: RateLimitConfig = RateLimitConfig(),
        port: int = 0,
    ):
        self.world = world
        self.faults = faults
        self.rate_limit = rate_limit
        index = WorldIndex(world)
        self._handlers = {name: dialect.handler(index) for name, dialect in registered().items()}
        self._platform = Platform(index)
        self._limiter = _RateLimiter(rate_limit)
        self._quota = _DailyQuota(rate_limit.daily_units)
        self._faults = _FaultInjector(faults)
        self._log_lock = threading.Lock()
        self._log: list[dict] = []
        self._clock = end_of_day(world.config.end_date)
        # a network's own clock, when one is set: networks landed at once may be on different days
        self._network_clocks: dict[str, datetime] = {}
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle
    def start(self) -> str:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _make_handler(self))
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sandbox-http", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def person_tokens(self, network: str) -> dict[str, str]:
        """The token store of a network read with each person's own token (handle -> token);
        empty for any other network."""
        dialect = registered().get(network)
        return dict(dialect.person_tokens(self.world)) if dialect and dialect.person_tokens else {}

    # -- clock and log
    @property
    def clock(self) -> datetime:
        return self._clock

    def set_clock(self, now: datetime, network: str | None = None) -> None:
        """The world's clock, or only `network`'s (setting the world's clock resets every network's)."""
        if now.tzinfo is None:
            raise ValueError("clock must be timezone-aware")
        if network is not None:
            if network not in self._handlers:
                raise ValueError(f"unknown network {network!r}")
            self._network_clocks = {**self._network_clocks, network: now.astimezone(UTC)}
        else:
            self._clock, self._network_clocks = now.astimezone(UTC), {}

    def clock_of(self, network: str) -> datetime:
        return self._network_clocks.get(network, self._clock)

    @property
    def request_log(self) -> list[dict]:
        with self._log_lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- request handling
    def handle(
        self, method: str, target: str, body: bytes, request_headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, str | None]:
        """Answer one request: (status, headers, body, injected fault kind or None). A dialect's own
        answers (`refuse`, `pushback`, `fault_reply`) come first where it has them."""
        status, headers, payload, fault, _ = self._answer(method, target, body, request_headers)
        return status, headers, payload, fault

    def _answer(
        self, method: str, target: str, body: bytes, request_headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, str | None, bool]:
        """`handle`'s answer and whether the request was refused for the network's rate window
        (however the dialect words the refusal: a 429, or Meta's 400 with a throttling code)."""
        split = urlsplit(target)
        path, query = split.path, dict(parse_qsl(split.query))
        network = network_of(path)
        if path.startswith("/_sandbox/"):
            return (*self._control(method, path, body), None, False)
        if network is None or method != "GET":
            return 404, {}, _json({"error": "Not found"}), None, False

        dialect = registered().get(network)
        if dialect is not None and dialect.refuse is not None and request_headers is not None:
            refusal = dialect.refuse(request_headers)
            if refusal is not None:
                return refusal.status, dict(refusal.headers), _json(refusal.body), None, False
        windowed = dialect is None or dialect.rate_window
        if windowed:
            allowed, remaining, reset_in = self._limiter.take(network)
            headers = self._rate_headers(network, max(remaining, 0), reset_in)
        else:
            allowed, headers = True, {}
        if not allowed:
            if dialect is not None and dialect.throttle_reply is not None:
                return (*self._reply(dialect.throttle_reply(reset_in, None)), None, True)
            headers["Retry-After"] = str(max(1, math.ceil(reset_in)))
            return 429, headers, _json(self._error_body(network, "RateLimitExceeded", "Too many requests")), None, True
        if not self._quota.take(network, path, query):
            return (*self._reply(dialect.quota_reply()), None, False)
        if windowed and dialect is not None and dialect.pushback is not None:
            pushed = dialect.pushback(target, self.rate_limit.limit, max(remaining, 0), reset_in)
            if pushed is not None:
                return pushed.status, {**headers, **pushed.headers}, _json(pushed.body), None, False

        fault, variant = self._faults.decide(f"{method} {target}")
        own = dialect.fault_reply(fault, target, variant) if fault and dialect and dialect.fault_reply else None
        if own is not None:
            return own.status, {**headers, **own.headers}, _json(own.body), fault, False
        if fault == "429":
            if dialect is not None and dialect.throttle_reply is not None:
                return (*self._reply(dialect.throttle_reply(reset_in if windowed else 0.0, variant)), fault, False)
            headers["Retry-After"] = "1" if variant % 2 else formatdate(time.time() + 2, usegmt=True)
            return (
                429,
                headers,
                _json(self._error_body(network, "RateLimitExceeded", "Too many requests")),
                fault,
                False,
            )
        if fault in ("500", "502", "503"):
            return (
                int(fault),
                headers,
                _json(self._error_body(network, "InternalServerError", "Try again")),
                fault,
                False,
            )
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)

        reply = self._dispatch(network, path, query)
        headers.update(reply.headers)
        payload = _json(reply.body)
        if fault == "truncated":
            payload = payload[: len(payload) // 2]
        return reply.status, headers, payload, fault, False

    def _dispatch(self, network: str, path: str, query: dict) -> Reply:
        clock_ms = to_ms(self.clock_of(network))
        try:
            if network in self._handlers:
                return self._handlers[network].route(path, query, clock_ms, self.base_url)
            return self._platform.route(path, query, clock_ms)
        except BadRequest as exc:
            status = registered()[network].invalid_status if network in self._handlers else 400
            return Reply(status, self._error_body(network, "InvalidRequest", str(exc)))

    @staticmethod
    def _reply(reply: Reply) -> tuple[int, dict[str, str], bytes]:
        return reply.status, dict(reply.headers), _json(reply.body)

    @staticmethod
    def _error_body(network: str, code: str, message: str) -> dict:
        dialect = registered().get(network)
        return dialect.error_body(code, message) if dialect else {"error": message}

    def _rate_headers(self, network: str, remaining: int, reset_in: float) -> dict[str, str]:
        # our platform answers in Mastodon's style, the oldest dialect
        dialect = registered().get(network) or next(iter(registered().values()))
        return dialect.rate_headers(self.rate_limit.limit, remaining, time.time() + reset_in, self.rate_limit.window_s)

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict, bytes]:
        if path == "/_sandbox/health" and method == "GET":
            return 200, {}, _json({"status": "ok", "clock": self._clock.isoformat()})
        if path == "/_sandbox/world" and method == "GET":
            handles = self.world.public_handles
            return (
                200,
                {},
                _json(
                    {
                        "end_date": self.world.config.end_date.isoformat(),
                        "public_handles": {
                            n: handles.loc[handles["network"] == n, "handle"].tolist()
                            for n in sorted(handles["network"].unique())
                        },
                    }
                ),
            )
        if path.startswith("/_sandbox/tokens/") and method == "GET":
            return 200, {}, _json({"tokens": self.person_tokens(path.removeprefix("/_sandbox/tokens/"))})
        if path == "/_sandbox/clock" and method == "POST":
            try:
                request = json.loads(body or b"{}")
                network = request.get("network")
                self.set_clock(datetime.fromisoformat(request["now"]), network)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                return 400, {}, _json({"error": f"bad clock: {exc}"})
            return 200, {}, _json({"clock": (self.clock_of(network) if network else self._clock).isoformat()})
        return 404, {}, _json({"error": "Not found"})

    def _record(
        self, started: float, method: str, target: str, status: int, fault: str | None, refused: bool = False
    ) -> None:
        split = urlsplit(target)
        entry = {
            "monotonic": started,
            "wall": time.time(),
            "network": network_of(split.path),
            "method": method,
            "path": split.path,
            "query": split.query,
            "status": status,
            "fault": fault,
            "refused": refused,  # for the rate window (not an injected fault)
        }
        with self._log_lock:
            self._log.append(entry)


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _make_handler(server: SandboxServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # small header+body writes would otherwise stall ~40 ms

        def _serve(self, method: str) -> None:
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload, fault, refused = server._answer(method, self.path, body, dict(self.headers))
            server._record(started, method, self.path, status, fault, refused)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out (a slow fault) and has already moved on to its retry

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    return Handler
