"""Daily partitions and the pure functions that turn a partition window into dbt vars."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition

PARTITIONS_START = os.getenv("KLOUT_PARTITIONS_START", "2025-01-01")

daily_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")

# A backfill of many days is one run: one dbt invocation, one scoring pass.
single_run = BackfillPolicy.single_run()


def window_days(start: datetime, end: datetime) -> list[date]:
    """The days of a partition time window (end exclusive), oldest first."""
    first, last = start.date(), (end - timedelta(days=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def dbt_window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """--vars for incremental dbt models: an inclusive [min_date, max_date] window."""
    days = window_days(start, end)
    return {"min_date": days[0].isoformat(), "max_date": days[-1].isoformat()}


# What every partitioned asset step shares: one run per backfill, one DuckDB writer at a time.
PARTITIONED = dict(partitions_def=daily_partitions, backfill_policy=single_run, pool="duckdb")


def partition_days(context) -> list[date]:
    """The days of the run's partition range, oldest first."""
    return window_days(*context.partition_time_window)
