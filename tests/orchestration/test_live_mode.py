"""Live mode runs: with only KLOUT_PUBLIC_ACCOUNTS and no platform API, a day lands, builds and
scores those accounts against real-dialect servers (the sandbox's base URLs stand in for the
networks); the missing platform and a network without credentials are reported, not failures."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest
from dagster import DagsterInstance

import connectors
from orchestration.definitions import build_definitions
from orchestration.resources import SocialNetworks
from sandbox.dialects import registered
from sandbox.process import SandboxProcess

from .pipeline import WORLD_END, materialize_range


@pytest.fixture(scope="module")
def sandbox():
    server = SandboxProcess(persons=60, days=10, seed=7, end_date=WORLD_END)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_run(tmp_path_factory, dbt_manifest, sandbox):
    path = str(tmp_path_factory.mktemp("live") / "warehouse.duckdb")
    public = [f"{network}:{handle}" for network in connectors.NETWORKS for handle in sandbox.public_handles(network)]
    social = SocialNetworks(
        mode="live",
        base_urls={network: sandbox.base_url for network in connectors.NETWORKS},
        tokens={network: "a-token" for network in connectors.NETWORKS},  # the networks that need one run too
        public_accounts=public,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", path)
        result = materialize_range(build_definitions(social), WORLD_END, WORLD_END, DagsterInstance.ephemeral())
    return path, public, result


def test_a_live_day_with_only_public_accounts_lands_builds_and_scores_them(live_run):
    path, public, _ = live_run
    with duckdb.connect(path, read_only=True) as conn:
        scored = conn.execute(
            "select count(*) from marts.scores where day = ? and person_id not like 'p%'", [WORLD_END]
        ).fetchall()[0][0]
        profiles = conn.execute("select count(*) from raw.platform_profiles").fetchall()[0][0]
        landed = {
            network: conn.execute(f"select count(distinct handle) from raw.{network}_accounts").fetchall()[0][0]
            for network in connectors.NETWORKS
        }
    assert profiles == 0  # no platform: nobody registered
    assert all(landed[n] == sum(a.startswith(f"{n}:") for a in public) for n in connectors.NETWORKS), landed
    assert scored > 0  # the public accounts, scored as unregistered persons (network:account id)


def test_the_missing_platform_is_reported_not_failed(live_run):
    _, _, result = live_run
    materialized = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    notes = {
        m.asset_key.to_user_string(): m.metadata["note"].value
        for m in materialized
        if "note" in m.metadata and m.asset_key.path[0] == "raw"
    }
    assert set(notes) == {f"raw/platform_{t}" for t in ("profiles", "links", "kplus", "campaigns", "topic_edits")}
    assert all("PLATFORM_BASE_URL" in note for note in notes.values())


def test_a_network_without_its_credentials_is_skipped_with_one_clear_line(monkeypatch):
    spec = connectors.NETWORKS["mastodon"]
    monkeypatch.setitem(connectors.NETWORKS, "mastodon", replace(spec, credentials_required=True))
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    monkeypatch.delenv("MASTODON_API_KEY", raising=False)
    live = SocialNetworks(mode="live")
    assert live.skip_reason("mastodon") == "skipped: no credentials (set MASTODON_TOKEN or MASTODON_API_KEY)"
    assert SocialNetworks(mode="live", tokens={"mastodon": "t"}).skip_reason("mastodon") is None
    assert live.skip_reason("bluesky") is None  # a public API needs none


def test_the_raw_assets_report_their_traffic(live_run):
    _, _, result = live_run
    materialized = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    traffic = {
        m.asset_key.to_user_string(): (m.metadata["requests"].value, m.metadata["requests_per_second"].value)
        for m in materialized
        if "requests_per_second" in m.metadata
    }
    assert {f"raw/{n}_posts" for n in connectors.NETWORKS} <= set(traffic)
    # a network whose API reads only its owner's data (Foursquare) has no public accounts to fetch
    public = {n for n, dialect in registered().items() if dialect.public_accounts}
    assert all(traffic[f"raw/{n}_posts"][0] > 0 for n in public), traffic
    assert all(rate > 0 for requests, rate in traffic.values() if requests > 0)
    shares = [m.metadata["rate_limit_wait_share"].value for m in materialized if "rate_limit_wait_share" in m.metadata]
    assert all(0.0 <= share <= 1.0 for share in shares)
