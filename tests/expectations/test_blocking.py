"""A failing blocking GX check stops the downstream asset from materialising."""

from __future__ import annotations

import duckdb
from dagster import AssetKey, DailyPartitionsDefinition, Definitions, asset
from dagster_duckdb import DuckDBResource

from orchestration.checks import suite_check

PARTITIONS = DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")
POSTS = AssetKey(["raw", "mastodon_posts"])
GOOD = ("9001", "2026-11-20 09:00:00+00")
BAD_DUPLICATE = ("9001", "2026-11-20 10:00:00+00")


def _defs(rows):
    @asset(key=POSTS, partitions_def=PARTITIONS, pool="duckdb")
    def mastodon_posts(duckdb: DuckDBResource) -> None:
        with duckdb.get_connection() as conn:
            conn.execute("create schema if not exists raw")
            conn.execute(
                "create or replace table raw.mastodon_posts (network varchar, post_id varchar, account_id varchar,"
                " created_at timestamptz, partition_day date, fetched_at timestamptz, payload json)"
            )
            for post_id, created in rows:
                conn.execute(
                    "insert into raw.mastodon_posts values ('mastodon', ?, '101', ?, '2026-11-20', '2026-11-21 00:05:00+00', '{}')",
                    [post_id, created],
                )

    @asset(key=["staging", "downstream_posts"], deps=[POSTS], partitions_def=PARTITIONS, pool="duckdb")
    def downstream_posts(duckdb: DuckDBResource) -> None:
        with duckdb.get_connection() as conn:
            conn.execute("create or replace table raw.downstream_done as select 1 as done")

    return mastodon_posts, downstream_posts


def _run(tmp_path, rows):
    database = str(tmp_path / "warehouse.duckdb")
    upstream, downstream = _defs(rows)
    defs = Definitions(
        assets=[upstream, downstream],
        asset_checks=[suite_check("raw_mastodon_posts", POSTS)],
        resources={"duckdb": DuckDBResource(database=database)},
    )
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(partition_key="2026-11-20", raise_on_error=False), database


def _downstream_ran(result) -> bool:
    materialized = {
        ev.event_specific_data.materialization.asset_key for ev in result.get_asset_materialization_events()
    }
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    return AssetKey(["staging", "downstream_posts"]) in materialized or "staging__downstream_posts" in started


def _check_evaluation(result):
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) == 1
    return evaluations[0]


def test_bad_rows_block_downstream(tmp_path):
    result, database = _run(tmp_path, [GOOD, BAD_DUPLICATE])
    evaluation = _check_evaluation(result)
    assert not evaluation.passed
    assert evaluation.severity.value == "ERROR"
    assert "failed: expect_column_values_to_be_unique(post_id)" in evaluation.metadata
    assert not _downstream_ran(result)
    assert not result.success
    # the downstream step never started (Dagster logs "Dependencies for step staging__downstream_posts failed ... Not
    # executing"); the same job with good rows does run it (test_good_rows_let_downstream_run)
    assert "staging__downstream_posts" not in {e.step_key for e in result.all_events if e.step_key and e.is_step_event}
    conn = duckdb.connect(database, read_only=True)  # no connection left open
    try:
        assert not conn.execute(
            "select count(*) from information_schema.tables where table_name = 'downstream_done'"
        ).fetchone()[0]
    finally:
        conn.close()


def test_good_rows_let_downstream_run(tmp_path):
    result, _ = _run(tmp_path, [GOOD])
    assert _check_evaluation(result).passed
    assert _downstream_ran(result)
    assert result.success
