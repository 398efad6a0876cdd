"""chain_diff tells same, equal-after-rounding and different tables apart, order-free."""

import duckdb

from tests.bench.chain_diff import compare


def _warehouse(path, scores, extra_table=False):
    conn = duckdb.connect(str(path))
    conn.execute("create schema marts")
    conn.execute("create table marts.scores (person_id varchar, score double, computed_at timestamp)")
    conn.executemany("insert into marts.scores values (?, ?, now())", scores)
    if extra_table:
        conn.execute("create table marts.extra (x int)")
    conn.close()
    return str(path)


def test_same_rows_in_another_order_are_the_same(tmp_path):
    base = _warehouse(tmp_path / "a.duckdb", [("a", 1.0), ("b", 2.0), ("b", 2.0)])
    new = _warehouse(tmp_path / "b.duckdb", [("b", 2.0), ("a", 1.0), ("b", 2.0)])
    assert compare(base, new, None, 9, ("computed_at",)) == []


def test_last_digit_noise_passes_only_within_the_rounding(tmp_path):
    base = _warehouse(tmp_path / "a.duckdb", [("a", 1.0), ("b", 2.0)])
    new = _warehouse(tmp_path / "b.duckdb", [("a", 1.0 + 1e-12), ("b", 2.0)])
    assert compare(base, new, None, 9, ("computed_at",)) == []
    [problem] = compare(base, new, None, 13, ("computed_at",))
    assert "marts.scores" in problem and "score (largest sorted difference 1e-12)" in problem


def test_a_changed_key_a_lost_duplicate_and_a_missing_table_differ(tmp_path):
    base = _warehouse(tmp_path / "a.duckdb", [("a", 1.0), ("b", 2.0), ("b", 2.0)], extra_table=True)
    new = _warehouse(tmp_path / "b.duckdb", [("c", 1.0), ("b", 2.0)])
    problems = compare(base, new, None, 9, ("computed_at",))
    assert "marts.extra: only in base" in problems
    [scores] = [p for p in problems if p.startswith("marts.scores")]
    assert "3 vs 2 rows" in scores and "person_id" in scores
