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


def test_pagerank_ranks_come_back_bit_for_bit_per_version_and_day():
    """A daily run warm-starts from the ranks a backfill's loop would hand on: the same bits."""
    from orchestration.warehouse import Warehouse

    ranks = pd.Series([0.15, 1.0 / 3.0, 2.718281828459045], index=pd.Index(["p2", "p1", "p3"], dtype="str"))
    with duckdb.connect(":memory:") as conn:
        warehouse = Warehouse(conn)
        assert warehouse.pagerank_ranks("v1", D1) is None  # nothing stored yet: a cold start
        warehouse.write_pagerank_ranks("v1", D1, ranks)
        warehouse.write_pagerank_ranks("v2", D1, ranks * 2)
        warehouse.write_pagerank_ranks("v1", D1, ranks)  # a re-run replaces, never duplicates
        back = warehouse.pagerank_ranks("v1", D1)
        assert list(back.index) == ["p1", "p2", "p3"]
        assert back.to_numpy().tobytes() == ranks.sort_index().to_numpy().tobytes()
        assert warehouse.pagerank_ranks("v1", D2) is None
        warehouse.write_pagerank_ranks("v1", D1, None)  # a day with no graph clears its ranks
        assert warehouse.pagerank_ranks("v1", D1) is None
