"""GX suites as Dagster asset checks: one check per suite, blocking where the suite says so."""

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check
from dagster_duckdb import DuckDBResource

from expectations.runner import load_suite, validate_partition

from .partitions import window_days


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
        days = window_days(*context.partition_time_window) if context.has_partition_key_range or context.has_partition_key else None
        with duckdb.get_connection() as conn:
            result = validate_partition(conn, suite.name, days)
        metadata = {
            "rows": result.rows,
            "expectations": result.evaluated,
            "summary": MetadataValue.text(result.summary()),
        }
        for failure in result.failures:
            metadata[f"failed: {failure.expectation}({failure.column or ''})"] = MetadataValue.json(
                {"unexpected_count": failure.unexpected_count, "sample": failure.sample, "message": failure.message}
            )
        return AssetCheckResult(
            passed=result.success,
            severity=AssetCheckSeverity.ERROR if suite.blocking else AssetCheckSeverity.WARN,
            metadata=metadata,
            description=result.summary(),
        )

    return _check
