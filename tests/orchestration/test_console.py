"""What `make run` prints, from a real run's event log: a line per step, progress, a failure named."""

import io

import pytest
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    BackfillPolicy,
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    MaterializeResult,
    asset,
    asset_check,
    define_asset_job,
)

from orchestration.console import RunReporter, format_event
from orchestration.partitions import window_days
from orchestration.progress import each_day

DAYS = DailyPartitionsDefinition(start_date="2026-01-01")
COMMON = dict(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())


@asset(**COMMON)
def landed(context: AssetExecutionContext) -> MaterializeResult:
    rows = 0
    for _ in each_day(context, window_days(*context.partition_time_window), "landing"):
        rows += 10
    context.log.warning("one account failed and kept its previous rows")
    return MaterializeResult(metadata={"rows": rows})


@asset_check(asset=landed)
def landed_is_fine() -> AssetCheckResult:
    return AssetCheckResult(passed=True, metadata={"expectations": 3, "rows": 30})


@asset(deps=[landed], **COMMON)
def broken(context: AssetExecutionContext) -> None:
    raise ValueError("mastodon: /api/v1/accounts/42/statuses answered 500\nsecond line")


@asset(deps=[broken], **COMMON)
def after_broken(context: AssetExecutionContext) -> None:
    pass


@pytest.fixture(scope="module")
def run_log():
    defs = Definitions(
        assets=[landed, broken, after_broken],
        asset_checks=[landed_is_fine],
        jobs=[define_asset_job("all", partitions_def=DAYS)],
    )
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("all").execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-03"},
    )
    assert not result.success
    return result.run_id, instance.all_logs(result.run_id)


def report(entries, **kwargs) -> tuple[RunReporter, str]:
    out = io.StringIO()
    reporter = RunReporter("2026-01-01...2026-01-03", out=out, **kwargs)
    for entry in entries:
        reporter.handle(entry)
    return reporter, out.getvalue()


def test_a_line_per_step_with_rows_seconds_and_check_verdicts(run_log):
    _, entries = run_log
    _, text = report(entries, tty=False, progress_every=3600)
    lines = text.splitlines()
    landed_line = next(line for line in lines if " landed " in line)
    assert landed_line.split()[:2] == ["ok", "landed"]
    assert "2026-01-01...2026-01-03" in landed_line and "landed 30 rows" in landed_line and "1 warning" in landed_line
    assert any("check landed_is_fine" in line and "passed: 3 expectations on 30 rows" in line for line in lines)
    assert not any("..." in line.split()[0] for line in lines)  # progress throttled away


def test_a_failure_names_the_step_and_the_users_error_not_dagsters_wrapper(run_log):
    run_id, entries = run_log
    reporter, text = report(entries, tty=False)
    assert "FAILED broken" in " ".join(text.split())
    assert "ValueError: mastodon: /api/v1/accounts/42/statuses answered 500" in text
    assert "second line" not in text and "Traceback" not in text
    summary = reporter.summary(run_id, False, 75.0)
    assert f"Run {run_id} FAILED at step broken after 1 min 15 s: ValueError: mastodon:" in summary
    assert "after_broken" in summary  # what did not run because of it
    assert f"make logs RUN={run_id}" in summary


def test_progress_is_printed_off_a_terminal_and_rewritten_in_place_on_one(run_log):
    _, entries = run_log
    _, plain = report(entries, tty=False, progress_every=0)
    assert "  ... landed: landing 2026-01-02 (2/3)\n" in plain
    _, tty = report(entries, tty=True)
    assert "\r\x1b[K" in tty and "landing 2026-01-03 (3/3)" in tty
    assert "landing 2026-01-03 (3/3)\n" not in tty  # the status line is replaced, never left behind


def test_the_full_log_carries_the_traceback(run_log):
    _, entries = run_log
    text = "\n".join(format_event(entry) for entry in entries)
    assert "STEP_FAILURE" in text and "ValueError: mastodon:" in text and "second line" in text
