"""Run the real Definitions in-process on a small, fixed-date sandbox world."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
from dagster import DagsterInstance

from orchestration.forgetting import REGISTRY_TABLES, SCHEMA
from orchestration.resources import SocialNetworks

WORLD_END = date(2026, 3, 31)
SMALL_WORLD = dict(sandbox_persons=60, sandbox_days=40, sandbox_end_date=WORLD_END.isoformat())
VOLATILE_COLUMNS = {"fetched_at"}  # when we fetched is metadata, not content


def small_social(**overrides) -> SocialNetworks:
    return SocialNetworks(**{**SMALL_WORLD, **overrides})


def materialize_range(
    defs,
    first: date,
    last: date,
    instance: DagsterInstance | None = None,
    selection: list | None = None,
    run_config: dict | None = None,
):
    """One single-run backfill over [first, last], as the CLI and UI launch it: the daily job
    (everything but the version review), or the `selection` of asset keys with `run_config`."""
    if selection is None:
        job = defs.resolve_job_def("daily_influence")
    else:
        job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        run_config=run_config,
        asset_selection=selection,
        instance=instance or DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=True,
    )
    assert result.success
    return result


def days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def snapshot(path: str, schemas=("raw", "marts")) -> dict[str, pd.DataFrame]:
    """Every table of the given schemas, sorted and without volatile columns: content to compare."""
    out = {}
    with duckdb.connect(path, read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (select unnest(?)) and table_type = 'BASE TABLE' order by 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, table in tables:
            frame = conn.execute(f"select * from {schema}.{table}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE_COLUMNS])
            frame = frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
            out[f"{schema}.{table}"] = frame
    return out


def identifiers(world, person_ids) -> set[str]:
    accounts = world.accounts[world.accounts.person_id.isin(person_ids)]
    return (
        set(person_ids)
        | set(accounts.account_id)
        | set(accounts.handle)
        | {f"{n}:{a}" for n, a in zip(accounts.network, accounts.account_id)}
    )


def traces(path: str, needles: set[str]) -> list[tuple[str, str, int]]:
    """Exact matches in every text column of every table and view outside the registry, and
    quoted matches in JSON: searched independently of the code under test."""
    found = []
    with duckdb.connect(path, read_only=True) as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns"
            " where data_type in ('VARCHAR', 'JSON') and table_schema not in ('information_schema', ?)",
            [SCHEMA],
        ).fetchall()
        for schema, table, column, kind in columns:
            if f"{schema}.{table}" in REGISTRY_TABLES:
                continue
            if kind == "JSON":
                quoted = f"""regexp_extract_all("{column}"::varchar, '"([^"]*)"', 1)"""
                sql = f'select count(*) from "{schema}"."{table}" where list_has_any(?, {quoted})'
            else:
                sql = f'select count(*) from "{schema}"."{table}" where "{column}" in (select unnest(?))'
            hits = conn.execute(sql, [sorted(needles)]).fetchone()[0]
            if hits:
                found.append((f"{schema}.{table}", column, hits))
    return found
