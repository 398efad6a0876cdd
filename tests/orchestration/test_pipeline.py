"""The whole chain in-process: raw -> dbt -> score -> leaderboard, with the GX checks."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey

from orchestration.cli import versioned_ops, versioned_selection
from orchestration.definitions import build_definitions

from .pipeline import WORLD_END, days, materialize_range, small_social, snapshot

FIRST = WORLD_END - pd.Timedelta(days=2).to_pytimedelta()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, dbt_manifest):
    path = str(tmp_path_factory.mktemp("pipeline") / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", path)
        defs = build_definitions(small_social())
        materialize_range(defs, FIRST, WORLD_END)
        first_pass = snapshot(path)
        materialize_range(defs, days(FIRST, 2)[1], days(FIRST, 2)[1])
        one_day_again = snapshot(path)
        materialize_range(defs, FIRST, WORLD_END)
        yield path, first_pass, one_day_again, snapshot(path)


def test_definitions_load(dbt_manifest):
    defs = build_definitions(small_social())
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {
        "raw/mastodon_posts",
        "raw/bluesky_reactions",
        "marts/fct_engagement_daily",
        "marts/fct_features_90d",
        "marts/scores",
        "marts/leaderboard",
    } <= keys
    assert defs.resolve_schedule_def("daily_influence_schedule") is not None
    assert defs.resolve_job_def("daily_influence").executor_def.name == "in_process"  # no process per step


def test_rescore_covers_every_versioned_table_through_its_op(dbt_manifest):
    """`rescore` selects the assets tagged as versioned and configures their ops: exactly the tables
    whose writers take a formula_version."""
    graph = build_definitions(small_social()).resolve_asset_graph()
    writers = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable and node.assets_def.node_def is not None:
            writers[".".join(key.path)] = node.assets_def.node_def.name
    versioned = {table: op for table, op in writers.items() if "formula_version" in _config_fields(graph, table)}
    tagged = {".".join(key.path) for key in versioned_selection().resolve(graph)}
    assert set(versioned) == tagged and len(tagged) == 6
    assert set(versioned.values()) == set(versioned_ops())


def _config_fields(graph, table: str) -> set[str]:
    node_def = graph.get(AssetKey(table.split("."))).assets_def.node_def
    schema = node_def.config_schema
    return set(schema.config_type.fields) if schema and hasattr(schema.config_type, "fields") else set()


def test_three_partitions_land_every_stage(warehouse):
    path, first_pass, _, _ = warehouse
    with duckdb.connect(path, read_only=True) as conn:
        for table in (
            "raw.mastodon_posts",
            "raw.bluesky_reactions",
            "marts.fct_engagement_daily",
            "marts.fct_features_90d",
        ):
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] > 0, table
        score_days = conn.execute("select count(distinct day), min(score), max(score) from marts.scores").fetchone()
        assert score_days[0] == 3 and 1 <= score_days[1] <= score_days[2] <= 100
        assert conn.execute("select count(*) from marts.leaderboard where day = ?", [WORLD_END]).fetchone()[0] == 10


@pytest.mark.parametrize("rerun", [2, 3], ids=["one-day-again", "three-day-window-again"])
def test_rematerialising_changes_nothing(warehouse, rerun):
    first_pass, again = warehouse[1], warehouse[rerun]
    assert first_pass.keys() == again.keys()
    for table, frame in first_pass.items():
        pd.testing.assert_frame_equal(frame, again[table], obj=table)
