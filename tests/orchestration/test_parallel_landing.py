"""`raw_networks` lands the selected networks at once: their fetching overlaps, DuckDB is used by
one thread at a time, a subset lands whole networks and yields only what was selected, and a
failed network is reported after every other network's results.

Overlap is proven without timing: each network's first fetch waits at a barrier for the other's,
which only concurrent fetches pass (sequential ones would break it after its timeout)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

import orchestration.landing as landing
from connectors.ingest import AccountFailure, DayBatch
from connectors.landing import NETWORK_TABLES
from orchestration.definitions import build_definitions
from orchestration.keys import UNMEASURED, raw_key
from orchestration.resources import SocialNetworks

from .pipeline import WORLD_END, materialize_range, small_social

DAY = WORLD_END - timedelta(days=2)
PAIR = ("mastodon", "bluesky")


def keys(*networks: str) -> list[AssetKey]:
    return [raw_key(f"{n}_{t}") for n in networks for t in NETWORK_TABLES]


def platform_keys() -> list[AssetKey]:
    return [raw_key(f"platform_{t}") for t in ("profiles", "links", "kplus", "campaigns", "topic_edits")]


def run(defs, day, selection, raise_on_error=True):
    """One partition of `selection`, as the UI launches a subset."""
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        asset_selection=selection,
        partition_key=day.isoformat(),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


def materialized(result) -> dict[str, dict]:
    return {
        e.event_specific_data.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in e.event_specific_data.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
    }


@pytest.fixture(scope="module")
def defs(tmp_path_factory, dbt_manifest):
    mp = pytest.MonkeyPatch()
    mp.setenv("KLOUT_WAREHOUSE", str(tmp_path_factory.mktemp("parallel") / "warehouse.duckdb"))
    definitions = build_definitions(small_social())
    # the platform and the registry first, over the days the tests land
    materialize_range(definitions, DAY - timedelta(days=1), WORLD_END, selection=[*platform_keys(), UNMEASURED])
    yield definitions
    mp.undo()


class Recorder:
    """Wraps the landing's steps: records each DuckDB step's interval and meets the other
    network's first fetch at a barrier."""

    def __init__(self, monkeypatch, networks):
        self.lock = threading.Lock()
        self.duckdb: list[tuple[str, float, float]] = []  # (what, start, end)
        self.fetches: list[tuple[str, float, float]] = []
        self.barrier = threading.Barrier(len(networks), timeout=60)
        self.met: set[str] = set()
        for name in ("land_day", "lookback_reaction_keys"):
            monkeypatch.setattr(landing, name, self.timed(name, getattr(landing, name)))
        monkeypatch.setattr(landing, "collect_day", self.fetch(landing.collect_day))

    def timed(self, name, step):
        def wrapped(conn, *args, **kwargs):
            start = time.monotonic()
            time.sleep(0.05)  # a window wide enough for an unserialised step to meet another
            out = step(conn, *args, **kwargs)
            with self.lock:
                self.duckdb.append((name, start, time.monotonic()))
            return out

        return wrapped

    def fetch(self, collect):
        def wrapped(client, *args, **kwargs):
            start = time.monotonic()
            if client.network not in self.met:
                self.met.add(client.network)
                self.barrier.wait()  # passes only when every network is fetching at once
            out = collect(client, *args, **kwargs)
            with self.lock:
                self.fetches.append((client.network, start, time.monotonic()))
            return out

        return wrapped


def test_networks_fetch_at_once_while_duckdb_steps_never_overlap(defs, monkeypatch):
    recorder = Recorder(monkeypatch, PAIR)
    result = run(defs, DAY, keys(*PAIR))
    assert result.success
    assert set(materialized(result)) == {k.to_user_string() for k in keys(*PAIR)}
    assert {n for n, _, _ in recorder.fetches} == set(PAIR)
    first = {network: next((s, e) for n, s, e in recorder.fetches if n == network) for network in PAIR}
    assert max(s for s, _ in first.values()) < min(e for _, e in first.values())  # in flight together
    steps = sorted(recorder.duckdb, key=lambda step: step[1])
    assert len(steps) == 2 * len(PAIR)  # per network: the lookback keys, then the day's write
    assert all(earlier[2] <= later[1] for earlier, later in zip(steps, steps[1:])), steps


def test_a_subset_lands_the_whole_network_and_yields_only_what_was_selected(defs):
    day = DAY + timedelta(days=1)
    result = run(defs, day, [raw_key("mastodon_posts")])
    assert set(materialized(result)) == {"raw/mastodon_posts"}
    with duckdb.connect(str(defs.resources["duckdb"].database), read_only=True) as conn:
        accounts = conn.execute("select count(*) from raw.mastodon_accounts where partition_day = ?", [day]).fetchone()
        others = conn.execute("select count(*) from raw.bluesky_accounts where partition_day = ?", [day]).fetchone()
    assert accounts[0] > 0  # landed with the posts, in the same transaction
    assert others[0] == 0  # an unselected network is not landed


def test_a_failed_network_is_reported_after_the_others_results(defs, monkeypatch):
    def collect(client, handles, day, **kwargs):
        if client.network != "bluesky":
            return real_collect(client, handles, day, **kwargs)
        failures = [AccountFailure("bluesky", h, "getProfile", "HTTP 503") for h in handles]
        return DayBatch("bluesky", day, failures=failures)

    real_collect = landing.collect_day
    monkeypatch.setattr(landing, "collect_day", collect)
    monkeypatch.setattr(
        SocialNetworks, "skip_reason", lambda self, n: "skipped: no credentials (test)" if n == "youtube" else None
    )
    result = run(defs, WORLD_END, keys("mastodon", "bluesky", "youtube"), raise_on_error=False)
    assert not result.success
    done = materialized(result)
    assert set(done) == {k.to_user_string() for k in keys("mastodon", "youtube")}
    assert all(done[f"raw/youtube_{t}"]["note"] == "skipped: no credentials (test)" for t in NETWORK_TABLES)
    assert all(done[f"raw/mastodon_{t}"]["failed_accounts"] == 0 for t in NETWORK_TABLES)
    assert done["raw/mastodon_posts"]["requests"] > 0 and 0 <= done["raw/mastodon_posts"]["rate_limit_wait_share"] <= 1
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "bluesky: every account failed on" in message and "mastodon" not in message
