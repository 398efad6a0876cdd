"""Validate a partition's rows against a GX 1.x suite kept as JSON; no Dagster imports.

A suite file (expectations/suites/<name>.json) names:
  table        the table checked (schema.table)
  day_column   its partition column
  blocking     whether the Dagster check blocks downstream assets
  query        optional SQL with {min_date}/{max_date} placeholders (DATE literals of the
               partition window): the rows validated, usually the table plus derived flag columns
               (e.g. created_in_partition, is_minor). Without it: the table's rows in the window.
  row_id       optional key columns shown with each unexpected row (sample rows)
  params       optional constants substituted into the query, e.g. {board_size}
  expectations GX expectation configurations ({"type", "kwargs"}), each optionally with
               "severity": "error" | "warn" (default: error in a blocking suite, else warn) and
               "on": "table" to run on the table's own partition rows instead of the query
               (needed for column-set checks, as the query adds flag columns).

Validation runs IN DUCKDB through GX's SQL datasource (duckdb-engine SQLAlchemy dialect), on a
read-only connection that is disposed before returning. GX runs in an ephemeral context with
analytics off, so it writes no state anywhere.

Per-check overhead is kept small, with the same results: one GX datasource (and its engines) per
process and database, reused by every suite but with its connections closed after each
validation; one query asset per suite and target, re-pointed at each window's SQL; and two
passes, a cheap BOOLEAN_ONLY pass over every expectation (no sample-row queries) and a SUMMARY
pass, for the samples and counts, over only the expectations that failed.
"""

from __future__ import annotations

import json
import os
import string
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

SUITES_DIR = Path(__file__).parent / "suites"
NETWORK_SUITES_DIR = SUITES_DIR / "network"
SAMPLE_ROWS = 5
SEVERITIES = ("error", "warn")
_ALL_TIME = (date(1, 1, 1), date(9999, 12, 31))


@dataclass(frozen=True)
class Suite:
    name: str
    table: str
    day_column: str
    blocking: bool
    expectations: list[dict[str, Any]]
    description: str = ""
    query: str | None = None
    row_id: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def severity(self, exp: dict[str, Any]) -> str:
        return exp.get("severity") or ("error" if self.blocking else "warn")

    def table_query(self, min_date: date, max_date: date) -> str:
        return f"select * from {self.table} where {self.day_column} between {_lit(min_date)} and {_lit(max_date)}"

    def rows_query(self, min_date: date, max_date: date) -> str:
        if not self.query:
            return self.table_query(min_date, max_date)
        return self.query.format(min_date=_lit(min_date), max_date=_lit(max_date), **self.params)


@dataclass
class FailedExpectation:
    expectation: str
    column: str | None
    unexpected_count: int | None
    sample: list[Any]
    message: str
    severity: str = "error"
    observed: Any = None


@dataclass
class SuiteResult:
    suite: Suite
    rows: int
    evaluated: int
    failures: list[FailedExpectation] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def severity(self) -> str:
        """error when any failed expectation is error-level (a blocking check then blocks), else warn."""
        return "error" if any(f.severity == "error" for f in self.failures) else "warn"

    def summary(self) -> str:
        if self.success:
            return f"{self.suite.name}: {self.evaluated} expectations passed on {self.rows} rows of {self.suite.table}"
        return f"{self.suite.name}: " + "; ".join(f.message for f in self.failures)


ACCOUNT_COUNTS = ("followers_count", "following_count", "posts_count")  # a SPEC's account_counts keys


def _network_suites() -> dict[str, tuple[Path, dict[str, Any]]]:
    """raw_<network>_<table> -> (template, its values), for every registered network: a network's
    raw suites are `suites/network/raw_<table>.json` filled from its connector's SPEC."""
    from connectors import NETWORKS

    suites = {}
    for network, spec in NETWORKS.items():
        values = {
            "network": network,
            "reaction_types": [*spec.reaction_types, "mention"],
            "anonymous_counts": list(spec.anonymous_counts),
            **spec.account_counts,
        }
        for template in sorted(NETWORK_SUITES_DIR.glob("raw_*.json")):
            suites[f"raw_{network}_{template.stem.removeprefix('raw_')}"] = (template, values)
    return suites


def _filled(node: Any, values: dict[str, Any]) -> Any:
    """`node` with ${name} placeholders replaced; a string that is exactly one placeholder takes the
    value as is (a list stays a list)."""
    if isinstance(node, dict):
        return {k: _filled(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_filled(v, values) for v in node]
    if isinstance(node, str) and node.startswith("${") and node.endswith("}") and node[2:-1] in values:
        return values[node[2:-1]]
    return string.Template(node).safe_substitute(values) if isinstance(node, str) else node


def load_suite(name: str) -> Suite:
    path = SUITES_DIR / f"{name}.json"
    if path.exists():
        data = json.loads(path.read_text())
    elif name in (network_suites := _network_suites()):
        template, values = network_suites[name]
        # a count the network does not have (its SPEC omits it) reads a JSON path that never matches
        # (null), and nothing is expected of it
        lacking = {count for count in ACCOUNT_COUNTS if count not in values}
        data = _filled(json.loads(template.read_text()), {**{c: "$.__not_given__" for c in lacking}, **values})
        data["expectations"] = [e for e in data["expectations"] if e.get("kwargs", {}).get("column") not in lacking]
    else:
        raise FileNotFoundError(f"no GX suite {name!r}: not in {SUITES_DIR} nor a registered network's raw suite")
    query = data.get("query")
    if isinstance(query, list):  # a query may be kept as a list of lines for readability
        query = "\n".join(query)
    suite = Suite(
        name=data["name"],
        table=data["table"],
        day_column=data["day_column"],
        blocking=bool(data.get("blocking", False)),
        expectations=data["expectations"],
        description=data.get("description", ""),
        query=query,
        row_id=tuple(data.get("row_id", ())),
        params=dict(data.get("params", {})),
    )
    for exp in suite.expectations:
        if exp.get("severity", "error") not in SEVERITIES or exp.get("on", "query") not in ("query", "table"):
            raise ValueError(f"suite {name}: bad severity/on in {exp}")
    return suite


def suite_names() -> list[str]:
    return sorted([*(p.stem for p in SUITES_DIR.glob("*.json")), *_network_suites()])


# --- GX plumbing ---------------------------------------------------------------------------


def _register_dialect() -> None:
    """`duckdb+gxread://`: duckdb-engine without transactions, for read-only validation.

    GX's SQL engine closes each connection before it fetches the rows
    (SqlAlchemyExecutionEngine.execute_query), and closing rolls the connection's transaction
    back, which in DuckDB discards the pending result, so every metric comes back empty
    (great_expectations issue #11579). Our connections only read, so they run in DuckDB's
    autocommit mode: no BEGIN, and COMMIT/ROLLBACK are no-ops. The dialect name stays "duckdb".
    """
    import sys

    import duckdb_engine
    from sqlalchemy.dialects import registry

    class GXReadDuckDBDialect(duckdb_engine.Dialect):
        supports_statement_cache = True

        def do_begin(self, dbapi_connection) -> None:
            pass

        def do_commit(self, dbapi_connection) -> None:
            pass

        def do_rollback(self, dbapi_connection) -> None:
            pass

    sys.modules[__name__].GXReadDuckDBDialect = GXReadDuckDBDialect
    registry.register("duckdb.gxread", __name__, "GXReadDuckDBDialect")


@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx

    _register_dialect()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def _gx_suite(name: str, expectations: Iterable[dict[str, Any]], suite: Suite | None = None):
    """A GX suite of `expectations`; each one's meta holds its severity and its position in the list."""
    expectations = list(expectations)
    spec = json.dumps(
        [[e["type"], e["kwargs"], suite.severity(e) if suite else None] for e in expectations],
        sort_keys=True,
        default=str,
    )
    return _gx_suite_from_spec(name, spec)


@lru_cache(maxsize=512)
def _gx_suite_from_spec(name: str, spec: str):
    """Built once per process and spec: validating a suite does not change it."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx_suite = gx.ExpectationSuite(name=name)
    for position, (type_, kwargs, severity) in enumerate(json.loads(spec)):
        meta = {"severity": severity} if severity else {}
        gx_suite.add_expectation_configuration(
            ExpectationConfiguration(type=type_, kwargs=kwargs, meta={**meta, "position": position})
        )
    return gx_suite


# One GX SQL datasource per (process, database), and one query asset per (suite, target) on it;
# the least recently used are dropped beyond _MAX_SOURCES databases (a test session opens many).
# Validations in a process run one at a time (GX contexts are not thread-safe).
_MAX_SOURCES = 4
_SOURCES: OrderedDict[str, Any] = OrderedDict()
_ASSETS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.RLock()


def _lock_error(exc: BaseException) -> BaseException | None:
    """The DuckDB error, if `exc` (or what it wraps) is DuckDB refusing to open the file."""
    import duckdb

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (duckdb.ConnectionException, duckdb.IOException)):
            return exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def _unreadable(database: str, exc: BaseException) -> RuntimeError:
    """The file cannot be opened read-only: another process holds the write lock, or this process
    holds a read-write connection (DuckDB refuses to mix configurations in one process). The checks
    share pool "duckdb" with every writer, so neither should happen."""
    return RuntimeError(f"cannot open {database} read-only for validation; is a writer connection still open? ({exc})")


def _datasource(database: str):
    """The datasource on `database`, created (and its connection test's engine closed) on first use."""
    source = _SOURCES.get(database)
    if source is not None:
        _SOURCES.move_to_end(database)
    else:
        context = _context()
        name = f"warehouse_{uuid.uuid4().hex[:8]}"
        try:
            source = context.data_sources.add_sql(
                name,
                connection_string=f"duckdb+gxread:///{database}",
                kwargs={"connect_args": {"read_only": True}},
            )
        except Exception as exc:
            if name in context.data_sources.all():
                _dispose([context.data_sources.get(name)])
                context.data_sources.delete(name)
            error = _lock_error(exc)
            if error is not None:
                raise _unreadable(database, error) from exc
            raise
        _dispose([source])  # add_sql tested the connection with the datasource's own engine
        _SOURCES[database] = source
        while len(_SOURCES) > _MAX_SOURCES:
            _, old = _SOURCES.popitem(last=False)
            for key in [k for k in _ASSETS if k[0] == old.name]:
                del _ASSETS[key]
            _dispose([old])
            context.data_sources.delete(old.name)
    return source


def _batch(source, suite_name: str, target: str, sql: str):
    """A batch of `sql`'s rows, from the suite's query asset re-pointed at this window's SQL."""
    key = (source.name, suite_name, target)
    asset = _ASSETS.get(key)
    if asset is None:
        asset = source.add_query_asset(f"{suite_name}__{target}", query=sql)
        asset.add_batch_definition_whole_table("partition")
        _ASSETS[key] = asset
    asset.query = sql
    return asset.get_batch_definition("partition").get_batch()


def _table_exists(engine, table: str) -> bool:
    """Whether `table` exists yet (a partition that landed no rows creates none)."""
    import sqlalchemy as sa

    schema, name = table.split(".")
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.text(
                    "select count(*) from information_schema.tables where table_schema = :schema and table_name = :name"
                ),
                {"schema": schema, "name": name},
            ).scalar()
            > 0
        )


def _row_count(engine, sql: str) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"select count(*) from ({sql}) as validated_rows")).scalar())


@cache
def _reports_element_count(expectation_type: str) -> bool:
    """Whether a SUMMARY result of this expectation type carries `element_count` (map expectations)."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    return issubclass(
        get_expectation_impl(expectation_type),
        (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation),
    )


def validate_partition(database: str | os.PathLike, suite_name: str, days: list[date] | None) -> SuiteResult:
    """Validate the partition window `days` (None: the whole table) of `database` against a suite.

    Runs in DuckDB; every connection is closed before returning, so a writer can open the file.
    """
    import time

    started = time.perf_counter()
    suite = load_suite(suite_name)
    min_date, max_date = (min(days), max(days)) if days else _ALL_TIME
    database = str(Path(database).resolve())
    groups = {
        "query": [e for e in suite.expectations if e.get("on", "query") == "query"],
        "table": [e for e in suite.expectations if e.get("on") == "table"],
    }
    failures: list[FailedExpectation] = []
    evaluated = rows = 0
    with _LOCK:
        source = _datasource(database)
        engine = source.get_execution_engine()
        try:
            try:
                exists = _table_exists(engine.engine, suite.table)
            except Exception as exc:
                error = _lock_error(exc)
                if error is not None:
                    raise _unreadable(database, error) from exc
                raise
            if not exists:
                return SuiteResult(suite=suite, rows=0, evaluated=0, seconds=time.perf_counter() - started)
            for target, exps in groups.items():
                if not exps:
                    continue
                sql = (
                    suite.rows_query(min_date, max_date) if target == "query" else suite.table_query(min_date, max_date)
                )
                batch = _batch(source, suite.name, target, sql)
                # pass 1: pass/fail only
                outcome = batch.validate(
                    _gx_suite(f"{suite.name}_{target}", exps, suite), result_format={"result_format": "BOOLEAN_ONLY"}
                )
                evaluated += len(outcome.results)
                failed = [res for res in outcome.results if not res.success]
                counted = [
                    res
                    for res in outcome.results
                    if res.success and _reports_element_count(res.expectation_config.type)
                ]
                if target == "query" and counted:
                    rows = max(rows, _row_count(engine.engine, sql))
                if not failed:
                    continue
                # pass 2: the failed expectations with their counts and sample rows
                result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
                if suite.row_id and target == "query":
                    result_format["unexpected_index_column_names"] = list(suite.row_id)
                    result_format["return_unexpected_index_query"] = False
                again = [exps[res.expectation_config.meta["position"]] for res in failed]
                detail = batch.validate(
                    _gx_suite(f"{suite.name}_{target}_failed", again, suite), result_format=result_format
                )
                if target == "query":
                    rows = max([(r.result or {}).get("element_count") or 0 for r in detail.results] + [rows])
                failures += [_failure(suite, res) for res in detail.results if not res.success]
        finally:
            _dispose([source, engine])
    return SuiteResult(
        suite=suite, rows=rows, evaluated=evaluated, failures=failures, seconds=time.perf_counter() - started
    )


def _dispose(holders: list) -> None:
    """Close every connection GX opened (the datasource's test-connection engine, the execution
    engine's pool), so no DuckDB connection outlives the validation and a writer can open the file.
    The engines stay usable: they reconnect on the next validation."""
    seen: set[int] = set()
    for holder in holders:
        for engine in (holder, getattr(holder, "_execution_engine", None), getattr(holder, "_engine", None)):
            if engine is None or id(engine) in seen:
                continue
            seen.add(id(engine))
            if hasattr(engine, "close") and hasattr(engine, "engine"):  # a GX execution engine
                engine.close()
            elif hasattr(engine, "dispose"):  # a SQLAlchemy engine
                engine.dispose()


def _failure(suite: Suite, res) -> FailedExpectation:
    cfg = res.expectation_config
    severity = (cfg.meta or {}).get("severity") or suite.severity({})
    column = cfg.kwargs.get("column") or (
        ",".join(cfg.kwargs["column_list"]) if cfg.kwargs.get("column_list") else None
    )
    detail = res.result or {}
    count = detail.get("unexpected_count")
    if detail.get("partial_unexpected_index_list"):
        sample = [{k: _plain(v) for k, v in row.items()} for row in detail["partial_unexpected_index_list"]][
            :SAMPLE_ROWS
        ]
    else:
        sample = [_plain(v) for v in (detail.get("partial_unexpected_list") or [])][:SAMPLE_ROWS]
    observed = _plain(detail.get("observed_value"))
    where = f"{cfg.type}({column or ''}) on {suite.table}"
    if res.exception_info and _raised(res.exception_info):
        message = f"{where} raised {_exception_message(res.exception_info)}"
    elif count is not None:
        message = f"{where} failed [{severity}]: {count} unexpected, e.g. {sample}"
    else:
        message = f"{where} failed [{severity}]: observed {observed!r}"
        if detail.get("details"):
            message += f" ({_plain(detail['details'])})"
    return FailedExpectation(cfg.type, column, count, sample, message, severity, observed)


def _raised(info: dict) -> bool:
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _exception_message(info: dict) -> str:
    if info.get("exception_message"):
        return str(info["exception_message"])
    return "; ".join(str(v.get("exception_message")) for v in info.values() if isinstance(v, dict))[:500]


def _lit(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
