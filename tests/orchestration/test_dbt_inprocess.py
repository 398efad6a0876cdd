"""dbt in process (orchestration/dbt_inprocess.py) against the dbt CLI subprocess it replaces: the same
Dagster events and the same tables, on one manifest parsed once for the process."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta

import pytest
from dagster import DagsterInstance, materialize
from dagster_dbt import DbtCliResource

from orchestration import dbt_inprocess
from orchestration.assets.dbt import dbt_models
from orchestration.console import dbt_error
from orchestration.dbt_inprocess import InProcessDbtResource
from orchestration.dbt_project import dbt_executable, dbt_project
from tests.bench.worldgen import BenchWorld, write_world

from .pipeline import snapshot

END = date(2026, 3, 31)
PARTITIONS = [(END - timedelta(days=1)).isoformat(), END.isoformat()]  # two windows: the manifest is reused


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("dbt_inprocess") / "world.duckdb"
    write_world(str(path), BenchWorld(persons=60, days=3, end_date=END), log=lambda *_: None)
    return path


def materialise(world, name: str, resource, monkeypatch) -> tuple[list, dict]:
    """Each partition as its own run on a copy of `world`; (per partition: materialised keys and check
    results), and every table dbt wrote."""
    warehouse = world.with_name(f"{name}.duckdb")
    shutil.copyfile(world, warehouse)
    monkeypatch.setenv("KLOUT_WAREHOUSE", str(warehouse))
    events = []
    for partition in PARTITIONS:
        result = materialize(
            [dbt_models], partition_key=partition, resources={"dbt": resource}, instance=DagsterInstance.ephemeral()
        )
        assert result.success
        keys = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
        checks = sorted(
            (c.asset_key.to_user_string(), c.check_name, c.passed, str(c.severity))
            for c in result.get_asset_check_evaluations()
        )
        events.append((partition, keys, checks))
    return events, snapshot(str(warehouse), schemas=("marts",))


def test_in_process_dbt_yields_what_the_cli_does(world, dbt_manifest, monkeypatch):
    cli = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    cli_events, cli_tables = materialise(world, "cli", cli, monkeypatch)
    parsed = len(dbt_inprocess._MANIFESTS)
    inproc = InProcessDbtResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    events, tables = materialise(world, "inprocess", inproc, monkeypatch)

    assert len(dbt_inprocess._MANIFESTS) == parsed + 1  # one parse for both windows
    assert events == cli_events
    assert all(keys and checks and all(c[2] for c in checks) for _, keys, checks in events)
    assert tables.keys() == cli_tables.keys() and tables  # every mart dbt writes, row for row
    for name, frame in tables.items():
        assert frame.equals(cli_tables[name]), name
    assert sum(len(f) for f in tables.values()) > 0
    # the last window's rows are there: the second invocation ran on its own --vars, not the first's
    assert (tables["marts.fct_engagement_daily"]["day"] == PARTITIONS[-1]).any()


def test_a_dbt_error_fails_the_invocation_with_dbts_message(world, dbt_manifest, monkeypatch):
    warehouse = world.with_name("error.duckdb")
    shutil.copyfile(world, warehouse)
    monkeypatch.setenv("KLOUT_WAREHOUSE", str(warehouse))
    dbt = InProcessDbtResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    bad = json.dumps({"min_date": "not a day", "max_date": "not a day"})
    invocation = dbt.cli(["run", "--select", "+int_engagement_events", "--vars", bad], raise_on_error=False).wait()
    assert not invocation.is_successful()
    assert invocation.process.returncode == 1
    # what `make run` prints of a failed dbt step (orchestration/console.py) reads dbt's own error
    assert dbt_error(str(invocation.get_error())).startswith("dbt: Runtime Error in model int_engagement_events")
    # the warehouse is closed again: the run's next step can open it (DuckDB refuses a second configuration)
    import duckdb

    with duckdb.connect(os.environ["KLOUT_WAREHOUSE"], read_only=True) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
