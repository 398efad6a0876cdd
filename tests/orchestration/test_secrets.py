"""Secrets (tokens, the pseudonym salt) come from env vars and appear in no log line, event,
run config, metadata, exception or warehouse table, on a run that works and on one that fails."""

from __future__ import annotations

import logging

import duckdb
import pytest
from dagster import DagsterInstance
from dagster._serdes import serialize_value

from orchestration.definitions import build_definitions

from .pipeline import WORLD_END, materialize_range

SECRETS = {
    "MASTODON_TOKEN": "mastodon-secret-7f3a9c",
    "BLUESKY_TOKEN": "bluesky-secret-2b8e1d",
    "PLATFORM_TOKEN": "platform-secret-91cc04",
    "KLOUT_PSEUDONYM_SALT": "salt-secret-5d20aa",
}


def everything_recorded(instance: DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    return "\n".join([serialize_value(run), *(serialize_value(entry) for entry in instance.all_logs(run_id))])


def warehouse_text(path: str) -> str:
    with duckdb.connect(path, read_only=True) as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        return "\n".join(
            str(conn.execute(f'select string_agg("{c}"::varchar, \' \') from "{s}"."{t}"').fetchone()[0])
            for s, t, c in columns
        )


@pytest.fixture
def secret_env(monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KLOUT_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("KLOUT_SANDBOX_PERSONS", "60")
    monkeypatch.setenv("KLOUT_SANDBOX_END_DATE", WORLD_END.isoformat())
    return tmp_path / "warehouse.duckdb"


def test_a_run_with_tokens_set_records_none_of_them(secret_env, dbt_manifest, caplog):
    caplog.set_level(logging.DEBUG)
    instance = DagsterInstance.ephemeral()
    result = materialize_range(build_definitions(), WORLD_END, WORLD_END, instance=instance)
    recorded = everything_recorded(instance, result.run_id) + caplog.text + warehouse_text(str(secret_env))
    assert "anon-" in recorded  # the salt was used, and only its pseudonyms are kept
    for name, secret in SECRETS.items():
        assert secret not in recorded, name


def test_a_failing_run_names_no_token_in_its_errors(secret_env, dbt_manifest, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("KLOUT_MODE", "live")
    monkeypatch.setenv("PLATFORM_BASE_URL", "http://127.0.0.1:9")  # nothing listens: every call fails
    instance = DagsterInstance.ephemeral()
    job = build_definitions().resolve_job_def("daily_influence")
    result = job.execute_in_process(instance=instance, raise_on_error=False, partition_key=WORLD_END.isoformat())
    assert not result.success
    recorded = everything_recorded(instance, result.run_id) + caplog.text
    assert "127.0.0.1:9" in recorded  # the error is there, naming the endpoint
    for name, secret in SECRETS.items():
        assert secret not in recorded, name
