from datetime import UTC, date, datetime

from orchestration.cli import last_partitions
from orchestration.partitions import dbt_window_vars, window_days


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_one_partition_is_one_day_inclusive():
    assert dbt_window_vars(utc(2026, 3, 1), utc(2026, 3, 2)) == {"min_date": "2026-03-01", "max_date": "2026-03-01"}


def test_backfill_window_spans_month_boundary():
    days = window_days(utc(2026, 2, 27), utc(2026, 3, 3))
    assert days == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]
    assert dbt_window_vars(utc(2026, 2, 27), utc(2026, 3, 3)) == {"min_date": "2026-02-27", "max_date": "2026-03-02"}


def test_last_partitions_end_yesterday():
    assert last_partitions(14, today=date(2026, 11, 21)) == (date(2026, 11, 7), date(2026, 11, 20))
