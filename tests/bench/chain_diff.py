"""Are two warehouses' results the same, row for row? (issue 20: "the whole chain's results are
unchanged on the default world, compared with the previous main").

    .venv/bin/python -m tests.bench.chain_diff BASE.duckdb NEW.duckdb [--schemas raw,marts] [--decimals 9]

Every table both files hold is compared as a multiset of rows (order-free, duplicates counted):
first exactly, then with floating columns rounded to ``--decimals``; a table that differs names the
columns whose own multisets differ and the largest difference of each float column's sorted values.
Columns that record when something ran (``--ignore``) are left out. Exit status 1 when a table
differs beyond the rounding, or when a table exists on one side only.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

WHEN_IT_RAN = ("ingested_at", "landed_at", "loaded_at", "fetched_at", "materialized_at", "computed_at", "_dbt")
FLOATS = ("DOUBLE", "FLOAT", "REAL")


def tables(conn: duckdb.DuckDBPyConnection, db: str, schemas: list[str] | None) -> dict[str, dict[str, str]]:
    rows = conn.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? order by table_schema, table_name, ordinal_position",
        [db],
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for schema, table, column, kind in rows:
        if schemas is None or schema in schemas:
            found.setdefault(f"{schema}.{table}", {})[column] = kind
    return found


def _select(columns: dict[str, str], decimals: int | None) -> str:
    def one(name: str, kind: str) -> str:
        if decimals is not None and kind.upper().startswith(FLOATS):
            return f'round("{name}", {decimals}) as "{name}"'
        return f'"{name}"'

    return ", ".join(one(n, k) for n, k in columns.items())


def differing_rows(conn, table: str, columns: dict[str, str], decimals: int | None) -> int:
    cols = _select(columns, decimals)
    one_way = f"select {cols} from base.{table} except all select {cols} from new.{table}"
    other_way = f"select {cols} from new.{table} except all select {cols} from base.{table}"
    return conn.execute(f"select (select count(*) from ({one_way})) + (select count(*) from ({other_way}))").fetchone()[
        0
    ]


def column_report(conn, table: str, columns: dict[str, str], decimals: int) -> list[str]:
    notes = []
    for name, kind in columns.items():
        if differing_rows(conn, table, {name: kind}, decimals if kind.upper().startswith(FLOATS) else None) == 0:
            continue
        if kind.upper().startswith(FLOATS):
            worst = conn.execute(
                f"""with a as (select "{name}" as v, row_number() over (order by "{name}") as i from base.{table}),
                         b as (select "{name}" as v, row_number() over (order by "{name}") as i from new.{table})
                    select max(abs(a.v - b.v)) from a join b using (i)"""
            ).fetchone()[0]
            notes.append(f"{name} (largest sorted difference {worst:.3g})")
        else:
            notes.append(name)
    return notes


def compare(base: str, new: str, schemas: list[str] | None, decimals: int, ignore: tuple[str, ...]) -> list[str]:
    conn = duckdb.connect()
    conn.execute(f"attach '{base}' as base (read_only)")
    conn.execute(f"attach '{new}' as new (read_only)")
    left, right = tables(conn, "base", schemas), tables(conn, "new", schemas)
    problems = [
        f"{t}: only in {side}" for side, a, b in (("base", left, right), ("new", right, left)) for t in a if t not in b
    ]
    for table in sorted(set(left) & set(right)):
        kept = {n: k for n, k in left[table].items() if not n.lower().startswith(ignore) and not n.endswith(ignore)}
        if set(kept) - set(right[table]):
            problems.append(f"{table}: columns only in base: {sorted(set(kept) - set(right[table]))}")
            continue
        counts = [conn.execute(f"select count(*) from {side}.{table}").fetchone()[0] for side in ("base", "new")]
        if differing_rows(conn, table, kept, None) == 0:
            print(f"same     {table} ({counts[0]} rows)")
            continue
        if counts[0] == counts[1] and differing_rows(conn, table, kept, decimals) == 0:
            print(f"rounded  {table} ({counts[0]} rows): equal with floats rounded to {decimals} decimals")
            continue
        detail = ", ".join(column_report(conn, table, kept, decimals))
        problems.append(f"{table}: {counts[0]} vs {counts[1]} rows; differing columns: {detail}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base")
    p.add_argument("new")
    p.add_argument("--schemas", help="comma-separated schemas (default: all)")
    p.add_argument("--decimals", type=int, default=9, help="float rounding for the second comparison")
    p.add_argument("--ignore", default=",".join(WHEN_IT_RAN), help="column name prefixes/suffixes left out")
    a = p.parse_args(argv)
    schemas = a.schemas.split(",") if a.schemas else None
    problems = compare(a.base, a.new, schemas, a.decimals, tuple(x for x in a.ignore.split(",") if x))
    for problem in problems:
        print(f"DIFFERS  {problem}")
    print(f"{len(problems)} table(s) differ" if problems else "every table is the same")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
