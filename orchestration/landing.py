"""A network's daily landing behind the privacy gate: who to fetch, the gate, the fetch, and the
purge of what others' rows say of unmeasured people; and every network landed at once, a thread
each, their HTTP fetching overlapping while DuckDB is used by one thread at a time.
Dagster-free: the raw assets call it."""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import duckdb

from connectors.ingest import ResolvedOnce, collect_day
from connectors.landing import NETWORK_TABLES, LandingReport, ensure_raw_tables, land_day, lookback_reaction_keys
from connectors.privacy import gate_for

from .forgetting import WarehousePrivacy
from .warehouse import Warehouse


class NetworkLanding:
    """One network's days on its own DuckDB connection (a cursor). Every DuckDB use holds `lock`,
    which networks landed at once share: one DuckDB transaction at a time, HTTP never under it."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, social, network: str, lock: threading.Lock | None = None):
        self.started = time.monotonic()
        self.lock = lock or threading.Lock()
        self.conn, self.social, self.network = conn, social, network
        with self.lock:
            ensure_raw_tables(conn, social.networks)
        self.client = social.client(network) if social.skip_reason(network) is None else None
        self._traffic_before = self.client.http.stats.snapshot() if self.client is not None else (0, 0.0)
        self.registry = WarehousePrivacy(conn, social.pseudonym_salt)
        self.warehouse = Warehouse(conn)

    def tracked_handles(self, day: date, excluded: set[str]) -> list[str]:
        """Accounts to fetch: those linked by registered profiles as of `day`, plus public accounts,
        less every unmeasured person's (the privacy gate applies before anything is fetched)."""
        tracked = self.warehouse.tracked_handles(self.network, day) | set(self.social.public_handles(self.network))
        return sorted(tracked - excluded)

    def land(self, day: date) -> tuple[list[str], LandingReport]:
        """(handles fetched, report) of `day`: read, resolve (HTTP), read, fetch (HTTP), write."""
        self.social.observe_day(day, self.network)
        with self.lock:  # who is unmeasured (ages on the day; opt-outs by the latest registry), who is tracked
            unmeasured = self.registry.unmeasured(day)
            handles_of = {h: p for (n, h), p in unmeasured.handles.items() if n == self.network}
            handles = self.tracked_handles(day, set(handles_of))
            consenting = self.registry.consenting_private_handles(self.network)
            landed = self.warehouse.landed_account_ids(self.network)
        client = ResolvedOnce(self.client)  # the gate's resolutions serve the collect too
        gate, resolved = gate_for(
            client,
            self.network,
            {a: p for n, a, p in unmeasured.accounts if n == self.network},
            handles_of,
            handles,
            consenting,
            landed,
            self.social.pseudonym_salt,
            workers=self.social.fetch_workers,
        )
        with self.lock:
            self.registry.record_accounts(self.network, resolved)
            newly_private = self.registry.record_privacy_flags(
                self.network, set(gate.private_account_ids), set(gate.measured_account_ids or ()), day
            )
            if newly_private:  # landed while public: forgotten everywhere now, before anything reads it
                self.registry.purge(self.registry.unmeasured(day))
            seen = lookback_reaction_keys(self.conn, self.network, day, self.social.lookback_days)
        batch = collect_day(
            client,
            handles,
            day,
            lookback_days=self.social.lookback_days,
            seen_reaction_keys=seen,
            privacy=gate,
            workers=self.social.fetch_workers,
        )
        with self.lock:
            report = land_day(self.conn, batch)  # the day's tables in one transaction
            # what others' rows say of them (a post that mentions them), by every id the gate just
            # resolved too: redacted before anyone reads it
            tables = [f"raw.{self.network}_{t}" for t in NETWORK_TABLES]
            self.registry.purge(self.registry.unmeasured(day), tables=tables)
        return handles, report

    def traffic(self) -> dict[str, float]:
        """Requests sent since the landing started, per second of it, and the share of the fetching
        threads' time spent waiting on rate limits."""
        if self.client is None:
            return {}
        now = self.client.http.stats.snapshot()
        requests, waited = now[0] - self._traffic_before[0], now[1] - self._traffic_before[1]
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {
            "requests": requests,
            "requests_per_second": round(requests / elapsed, 2),
            "rate_limit_wait_share": round(min(waited / (elapsed * self.social.fetch_workers), 1.0), 3),
        }


class EveryAccountFailed(RuntimeError):
    """Every account of a network failed on a day: the network's landing stops there."""


@dataclass
class NetworkDays:
    """What landing one network's days came to; `error` is what stopped it, if anything did."""

    network: str
    rows: Counter = field(default_factory=lambda: Counter({t: 0 for t in NETWORK_TABLES}))  # table kind -> rows
    failures: list[str] = field(default_factory=list)  # "<day> <failure>": accounts that kept their previous rows
    traffic: dict[str, float] = field(default_factory=dict)
    error: Exception | None = None


def land_days(landing: NetworkLanding, days: Iterable[date], progress: Callable[[str], None]) -> NetworkDays:
    """The network's days in order, up to the first day every account failed (or any error)."""
    outcome = NetworkDays(landing.network)
    try:
        for day in days:
            progress(f"{landing.network} {day}")
            handles, report = landing.land(day)
            outcome.rows.update(report.rows)
            outcome.failures += [f"{day} {failure}" for failure in report.failures]
            if handles and len(report.failures) == len(handles):
                first = report.failures[0]
                raise EveryAccountFailed(f"{landing.network}: every account failed on {day}; first: {first}")
    except Exception as exc:  # reported with the others' results, not lost in a thread
        outcome.error = exc
    outcome.traffic = landing.traffic()
    return outcome


def land_networks(
    conn: duckdb.DuckDBPyConnection,
    social,
    networks: list[str],
    days: list[date],
    progress: Callable[[str], None] = lambda _: None,
) -> list[NetworkDays]:
    """`networks` landed at once, a thread each doing its days in order: their HTTP fetching
    overlaps, each within its own rate budget, while every DuckDB read and write (each thread on
    its own cursor) holds one lock, so there is never more than one DuckDB transaction.
    `progress` ("<network> <day>", as each day starts) is called on the caller's thread only."""
    lock = threading.Lock()
    events: queue.SimpleQueue = queue.SimpleQueue()  # progress lines, then None when a network is done
    cursors = [conn.cursor() for _ in networks]

    def land(network: str, cursor: duckdb.DuckDBPyConnection) -> NetworkDays:
        try:
            return land_days(NetworkLanding(cursor, social, network, lock), days, events.put)
        except Exception as exc:  # the landing could not even start (a client, a table)
            return NetworkDays(network, error=exc)
        finally:
            events.put(None)

    try:
        with ThreadPoolExecutor(max_workers=max(len(networks), 1), thread_name_prefix="landing") as pool:
            futures = [pool.submit(land, network, cursor) for network, cursor in zip(networks, cursors)]
            running = len(futures)
            while running:
                event = events.get()
                running -= event is None
                if event is not None:
                    progress(event)
            return [future.result() for future in futures]
    finally:
        for cursor in cursors:
            cursor.close()
