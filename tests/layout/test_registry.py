"""One network registry: the connectors' SPECs. The sandbox's dialects, the dbt staging models,
the raw assets and the GX suites all follow it, so adding a network touches its own modules only."""

from __future__ import annotations

from pathlib import Path

import yaml

from connectors import NETWORKS
from sandbox.dialects import registered

ROOT = Path(__file__).resolve().parents[2]


def test_every_connector_has_a_sandbox_dialect_and_back():
    assert set(NETWORKS) == set(registered())
    for name, dialect in registered().items():
        spec = NETWORKS[name]
        drawn = {word for word, _ in dialect.reaction_mix}
        # what the world draws is landed as rows, or (words the API only counts) as counts
        assert drawn - set(dialect.anonymous) == set(spec.reaction_types), name
        assert set(dialect.anonymous) <= drawn and set(dialect.anonymous) <= set(spec.anonymous_counts), name
        assert not set(spec.anonymous_counts) & set(spec.reaction_types), name


def test_every_network_has_its_staging_models_and_sources():
    staging = ROOT / "dbt_project" / "models" / "staging"
    # platform: our own API; imports: rows from files, each carrying one of vars.imported_networks
    networks_with_models = {p.name for p in staging.iterdir() if p.is_dir() and p.name not in ("platform", "imports")}
    assert networks_with_models == set(NETWORKS)
    for network in NETWORKS:
        models = {p.stem for p in (staging / network).glob("*.sql")}
        assert models == {f"stg_{network}__{entity}" for entity in ("accounts", "posts", "reactions", "counts")}, (
            network
        )


def test_dbt_unions_exactly_the_registered_networks():
    dbt_vars = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    assert set(dbt_vars.get("networks", NETWORKS)) == set(NETWORKS)
    # imported rows never carry an API network's name: an import cannot double a connector's rows
    assert not set(dbt_vars["imported_networks"]) & set(NETWORKS)
