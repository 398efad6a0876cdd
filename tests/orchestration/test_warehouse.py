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


def test_window_events_name_persons_as_sorted_categoricals_with_the_rows_a_string_read_gives():
    """The scores read their window with persons as codes over the sorted ids: the same rows, and
    EngagementEvents numbers persons as it would from the strings."""
    from domain.score import EngagementEvents
    from orchestration.formulas import load_formula
    from orchestration.warehouse import Warehouse

    events = pd.DataFrame(
        {
            "reactor_person_id": ["p3", "p1", "bluesky:z", "p1", "p2"],
            "target_person_id": ["p1", "p3", "p1", "p2", "p10"],
            "network": ["mastodon", "bluesky", "bluesky", "mastodon", "mastodon"],
            "event_day": [D1, D1, D2, D2, date(2026, 1, 1)],  # the last one is outside every window asked
        }
    )
    with duckdb.connect(":memory:") as conn:
        conn.execute("create schema intermediate")
        conn.execute("create table intermediate.int_engagement_events as select * from events")
        read = Warehouse(conn).window_events([D2], 3)
    assert list(read.columns) == list(events.columns)
    assert list(read["reactor_person_id"].cat.categories) == sorted(["p1", "p2", "p3", "bluesky:z"])
    assert list(read["network"].cat.categories) == ["bluesky", "mastodon"]
    as_strings = read.astype({"reactor_person_id": "str", "target_person_id": "str", "network": "str"})
    key = ["reactor_person_id", "target_person_id", "network"]
    expected = events.iloc[:4].astype({"event_day": "datetime64[us]"}).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        as_strings.sort_values(key).reset_index(drop=True), expected.astype(as_strings.dtypes.to_dict())
    )
    formula = load_formula()
    assert list(EngagementEvents(read, formula).persons) == list(EngagementEvents(expected, formula).persons)
    assert EngagementEvents(read, formula).persons.dtype == EngagementEvents(expected, formula).persons.dtype


def test_the_assets_connections_cap_duckdbs_memory(tmp_path, monkeypatch):
    """Uncapped, DuckDB keeps up to 80% of RAM of pages beside the assets' frames."""
    from orchestration.warehouse import ASSETS_MEMORY_ENV, warehouse_resource

    def limit(resource) -> str:
        with resource.get_connection() as conn:
            return conn.execute("select current_setting('memory_limit')").fetchone()[0]

    assert limit(warehouse_resource(str(tmp_path / "w.duckdb"))) == "953.6 MiB"  # 1GB, as DuckDB names it
    monkeypatch.setenv(ASSETS_MEMORY_ENV, "512MB")
    assert limit(warehouse_resource(str(tmp_path / "w.duckdb"))) == "488.2 MiB"
