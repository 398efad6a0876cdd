"""The daily schedule: yesterday, plus any missed days, as one single-run backfill."""

from datetime import date, timedelta

from dagster import AssetKey, RunRequest, ScheduleEvaluationContext, schedule
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

CATCH_UP_DAYS = 30
COMPLETION_ASSET = AssetKey(["marts", "scores"])


def catch_up_window(materialized: set[str], today: date, horizon: int = CATCH_UP_DAYS) -> tuple[date, date]:
    """[first missing day of the horizon, yesterday]; just yesterday when nothing was missed.

    Days already done inside the window are re-run too: partitions are idempotent, and one
    contiguous range keeps it a single run (one dbt invocation).
    """
    yesterday = today - timedelta(days=1)
    horizon_days = [yesterday - timedelta(days=i) for i in range(horizon)]
    missing = [d for d in horizon_days if d.isoformat() not in materialized]
    return (min(missing) if missing else yesterday), yesterday


def build_daily_schedule(job, partitions_start: date):
    @schedule(job=job, cron_schedule="0 6 * * *", execution_timezone="UTC", name="daily_influence_schedule")
    def daily_influence_schedule(context: ScheduleEvaluationContext):
        materialized = context.instance.get_materialized_partitions(COMPLETION_ASSET)
        first, last = catch_up_window(set(materialized), context.scheduled_execution_time.date())
        first = max(first, partitions_start)
        return RunRequest(
            run_key=f"{first.isoformat()}...{last.isoformat()}",
            tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
        )

    return daily_influence_schedule
