"""GX suites as Dagster asset checks: one check per suite, blocking where the suite says so.

A blocking check blocks downstream assets only when an error-level expectation fails
(severity ERROR); failures of expectations marked "severity": "warn" report WARN and never block.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from expectations.runner import SuiteResult, load_suite, suite_names, validate_partition

from .partitions import window_days


def suite_asset(suite_name: str) -> AssetKey:
    """The asset a suite checks: its table, schema and name (raw.mastodon_posts -> raw/mastodon_posts)."""
    return AssetKey(load_suite(suite_name).table.split("."))


def check_result(result: SuiteResult) -> AssetCheckResult:
    """The Dagster verdict for a suite result: each failed expectation in the metadata."""
    metadata = {
        "table": result.suite.table,
        "rows": result.rows,
        "expectations": result.evaluated,
        "failed": len(result.failures),
        "seconds": round(result.seconds, 3),
        "summary": MetadataValue.text(result.summary()),
    }
    for failure in result.failures:
        metadata[f"failed: {failure.expectation}({failure.column or ''})"] = MetadataValue.json(
            {
                "table": result.suite.table,
                "severity": failure.severity,
                "unexpected_count": failure.unexpected_count,
                "observed": failure.observed,
                "sample": failure.sample,
                "message": failure.message,
            }
        )
    return AssetCheckResult(
        passed=result.success,
        severity=AssetCheckSeverity.ERROR if result.severity == "error" else AssetCheckSeverity.WARN,
        metadata=metadata,
        description=result.summary()[:2000],
    )


def suite_check(suite_name: str, asset_key: AssetKey):
    suite = load_suite(suite_name)

    @asset_check(
        asset=asset_key,
        name=f"gx_{suite.name}",
        description=suite.description or f"Great Expectations suite {suite.name}",
        blocking=suite.blocking,
        pool="duckdb",
    )
    def _check(context: AssetCheckExecutionContext, duckdb: DuckDBResource) -> AssetCheckResult:
        partitioned = context.has_partition_key_range or context.has_partition_key
        days = window_days(*context.partition_time_window) if partitioned else None
        # GX opens its own read-only DuckDB connection on the resource's file and closes it before returning.
        return check_result(validate_partition(duckdb.database, suite.name, days))

    return _check


def all_gx_checks() -> list:
    """One asset check per suite (expectations/suites/, and each registered network's raw suites)."""
    return [suite_check(name, suite_asset(name)) for name in suite_names()]
