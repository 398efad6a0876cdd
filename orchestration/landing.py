"""A network's daily landing behind the privacy gate: who to fetch, the gate, the fetch, and the
purge of what others' rows say of unmeasured people. Dagster-free: the raw assets call it."""

from __future__ import annotations

import time
from datetime import date

import duckdb

from connectors.landing import NETWORK_TABLES, LandingReport, ensure_raw_tables, ingest_day
from connectors.privacy import gate_for

from .forgetting import WarehousePrivacy
from .warehouse import Warehouse


class NetworkLanding:
    def __init__(self, conn: duckdb.DuckDBPyConnection, social, network: str):
        self.started = time.monotonic()
        ensure_raw_tables(conn, social.networks)
        self.conn, self.social, self.network = conn, social, network
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
        """(handles fetched, report) of `day`."""
        self.social.observe_day(day)
        unmeasured = self.registry.unmeasured(day)  # ages on the day; opt-outs by the latest registry
        handles_of = {h: p for (n, h), p in unmeasured.handles.items() if n == self.network}
        handles = self.tracked_handles(day, set(handles_of))
        gate, resolved = gate_for(
            self.client,
            self.network,
            {a: p for n, a, p in unmeasured.accounts if n == self.network},
            handles_of,
            handles,
            self.registry.consenting_private_handles(self.network),
            self.warehouse.landed_account_ids(self.network),
            self.social.pseudonym_salt,
        )
        self.registry.record_accounts(self.network, resolved)
        report = ingest_day(
            self.conn,
            self.client,
            handles,
            day,
            lookback_days=self.social.lookback_days,
            privacy=gate,
            workers=self.social.fetch_workers,
        )
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
