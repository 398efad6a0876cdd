"""Where the embedded DuckDB warehouse lives, and small helpers to write partitioned tables."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_ENV = "KLOUT_WAREHOUSE"


def warehouse_path() -> str:
    path = Path(os.getenv(WAREHOUSE_ENV, REPO_ROOT / "data" / "warehouse.duckdb")).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    # dbt (a subprocess) reads the same variable in profiles.yml, so both always agree.
    os.environ[WAREHOUSE_ENV] = str(path)
    return str(path)


def exports_dir() -> Path:
    """Subject access exports, beside the warehouse (git-ignored with it)."""
    return Path(warehouse_path()).parent / "exports"


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    *,
    day_column: str,
    days: list[date],
    extra_keys: dict[str, str] | None = None,
) -> int:
    """Atomically replace the rows of `days` (and `extra_keys`, e.g. a formula version) in `table`.

    Re-running a partition therefore gives identical rows, never duplicates.
    """
    schema, name = table.split(".")
    conn.execute(f"create schema if not exists {schema}")
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()[0][0]
    if frame.empty and not exists:
        return 0  # an empty frame has no column types to create the table from; the first rows will
    if not frame.empty:
        conn.register("incoming_rows", frame)
    try:
        conn.execute("begin transaction")
        if not exists:
            conn.execute(f"create table {table} as select * from incoming_rows limit 0")
        where = [f"{day_column} between ? and ?"]
        params: list = [min(days), max(days)]
        for column, value in (extra_keys or {}).items():
            where.append(f"{column} = ?")
            params.append(value)
        conn.execute(f"delete from {table} where {' and '.join(where)}", params)
        if not frame.empty:
            conn.execute(f"insert into {table} by name select * from incoming_rows")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    finally:
        if not frame.empty:
            conn.unregister("incoming_rows")
    return len(frame)
