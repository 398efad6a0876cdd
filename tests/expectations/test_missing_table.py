import duckdb

from expectations.runner import validate_partition


def test_a_table_no_partition_has_written_yet_validates_as_empty(tmp_path):
    """A first day with no perks (say) creates no table: the check passes on zero rows."""
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    result = validate_partition(path, "perk_eligibility", None)
    assert result.success and result.rows == 0
