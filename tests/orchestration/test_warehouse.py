"""replace_rows: a partition's rows are replaced atomically, including by nothing."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from orchestration.warehouse import replace_rows

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)


def rows(day, *values):
    return pd.DataFrame({"day": [day] * len(values), "v": list(values)})


def test_a_day_is_replaced_and_other_days_are_kept():
    with duckdb.connect(":memory:") as conn:
        replace_rows(conn, "marts.t", pd.concat([rows(D1, 1, 2), rows(D2, 3)]), day_column="day", days=[D1, D2])
        replace_rows(conn, "marts.t", rows(D1, 9), day_column="day", days=[D1])
        replace_rows(conn, "marts.t", rows(D1, 9), day_column="day", days=[D1])  # re-run: same rows, no duplicates
        assert conn.execute("select day, v from marts.t order by all").fetchall() == [(D1, 9), (D2, 3)]


def test_a_day_with_nothing_to_write_empties_it_even_without_columns():
    """A day with no output (no scores yet, say) clears what an earlier run wrote for it."""
    with duckdb.connect(":memory:") as conn:
        assert replace_rows(conn, "marts.t", pd.DataFrame(), day_column="day", days=[D1]) == 0  # no table yet
        replace_rows(conn, "marts.t", pd.concat([rows(D1, 1), rows(D2, 3)]), day_column="day", days=[D1, D2])
        replace_rows(conn, "marts.t", pd.DataFrame(), day_column="day", days=[D1])
        replace_rows(conn, "marts.t", rows(D2, 3).iloc[:0], day_column="day", days=[D2])
        assert conn.execute("select count(*) from marts.t").fetchall() == [(0,)]
        assert [c[1] for c in conn.execute("pragma table_info('marts.t')").fetchall()] == ["day", "v"]
