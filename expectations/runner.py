"""Validate a partition's rows against a GX 1.x suite kept as JSON; no Dagster imports.

The suite file names the table, its partition column and whether a failure must block
downstream assets. GX runs in an ephemeral context, so it writes no state anywhere.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

SUITES_DIR = Path(__file__).parent / "suites"
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Suite:
    name: str
    table: str
    day_column: str
    blocking: bool
    expectations: list[dict[str, Any]]
    description: str = ""


@dataclass
class FailedExpectation:
    expectation: str
    column: str | None
    unexpected_count: int | None
    sample: list[Any]
    message: str


@dataclass
class SuiteResult:
    suite: Suite
    rows: int
    evaluated: int
    failures: list[FailedExpectation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if self.success:
            return f"{self.suite.name}: {self.evaluated} expectations passed on {self.rows} rows"
        return f"{self.suite.name}: " + "; ".join(f.message for f in self.failures)


def load_suite(name: str) -> Suite:
    path = SUITES_DIR / f"{name}.json"
    data = json.loads(path.read_text())
    return Suite(
        name=data["name"],
        table=data["table"],
        day_column=data["day_column"],
        blocking=bool(data.get("blocking", False)),
        expectations=data["expectations"],
        description=data.get("description", ""),
    )


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.json"))


@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def validate_frame(suite: Suite, frame: pd.DataFrame) -> SuiteResult:
    """Run the suite over a DataFrame and name every failed expectation with samples."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx_suite = gx.ExpectationSuite(name=suite.name)
    for exp in suite.expectations:
        gx_suite.add_expectation_configuration(ExpectationConfiguration(type=exp["type"], kwargs=exp["kwargs"]))
    context = _context()
    source_name = f"frame_{suite.name}"
    try:
        source = context.data_sources.get(source_name)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(source_name)
    try:
        batch_def = source.get_asset(suite.name).get_batch_definition("partition")
    except (KeyError, LookupError, ValueError):
        batch_def = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("partition")
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    outcome = batch.validate(gx_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS})
    failures = []
    for res in outcome.results:
        if res.success:
            continue
        cfg = res.expectation_config
        column = cfg.kwargs.get("column")
        detail = res.result or {}
        count = detail.get("unexpected_count")
        sample = [_plain(v) for v in (detail.get("partial_unexpected_list") or [])][:SAMPLE_ROWS]
        if res.exception_info and res.exception_info.get("raised_exception"):
            message = f"{cfg.type}({column}) raised {res.exception_info.get('exception_message')}"
        else:
            observed = detail.get("observed_value")
            message = f"{cfg.type}({column or ''}) failed on {suite.table}" + (
                f": {count} unexpected, e.g. {sample}" if count is not None else f": observed {observed!r}"
            )
        failures.append(FailedExpectation(cfg.type, column, count, sample, message))
    return SuiteResult(suite=suite, rows=len(frame), evaluated=len(outcome.results), failures=failures)


def partition_rows(conn, suite: Suite, days: list[date]) -> pd.DataFrame:
    """The rows of the suite's table in the partition window, read from DuckDB."""
    return conn.execute(
        f"select * from {suite.table} where {suite.day_column} between ? and ?", [min(days), max(days)]
    ).df()


def validate_partition(conn, suite_name: str, days: list[date]) -> SuiteResult:
    suite = load_suite(suite_name)
    return validate_frame(suite, partition_rows(conn, suite, days))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
