"""Privacy as assets: who is unmeasured (and forgetting them everywhere) before anything is
fetched, and an audit of the whole warehouse after everything is written."""

from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    Output,
    asset,
    asset_check,
    job,
    op,
)
from dagster_duckdb import DuckDBResource

from ..dbt_project import dbt_key
from ..forgetting import WarehousePrivacy
from ..keys import DAILY_MARTS, PRIVACY_AUDIT, PRIVACY_GROUP, UNMEASURED, raw_key
from ..partitions import PARTITIONED, partition_days
from ..reports import bullet_list
from ..resources import SocialNetworks
from ..serving_tables import republish_if_published
from ..warehouse import exports_dir

COMMON = dict(group_name=PRIVACY_GROUP, **PARTITIONED)


@asset(
    key=UNMEASURED,
    deps=[raw_key("platform_profiles"), raw_key("platform_links")],
    **COMMON,
    description="Who is not measured (opted out, minor, private without consent, erased), and forgetting them in "
    "every table and every past day before anything new is fetched.",
)
def unmeasured_persons(
    context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks
) -> MaterializeResult:
    last = partition_days(context)[-1]
    with duckdb.get_connection() as conn:
        unmeasured, report = WarehousePrivacy(conn, social.pseudonym_salt).forget(last)
    return MaterializeResult(
        metadata={
            "rows": len(unmeasured.reasons),
            **{f"unmeasured: {reason}": count for reason, count in unmeasured.counts().items()},
            "forgotten_rows": sum(report.rows.values()),
            "forgotten": MetadataValue.json(report.rows),
        }
    )


@asset(
    key=PRIVACY_AUDIT,
    deps=[UNMEASURED, dbt_key("dim_persons"), *DAILY_MARTS],  # the daily run's last writers
    **COMMON,
    description="Every table and view searched for the ids, account ids and handles of unmeasured people; "
    "findings (table, column, rows: never the ids) in privacy.audit_findings.",
)
def privacy_audit(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks) -> MaterializeResult:
    last = partition_days(context)[-1]
    with duckdb.get_connection() as conn:
        unmeasured, findings, searched = WarehousePrivacy(conn, social.pseudonym_salt).audit_run(context.run_id, last)
    return MaterializeResult(
        metadata={
            "rows": len(findings),
            "tables_searched": searched,
            "unmeasured_persons": len(unmeasured.reasons),
            "findings": MetadataValue.md(bullet_list([str(f) for f in findings])),
        }
    )


@asset_check(
    asset=privacy_audit,
    name="no_unmeasured_person_outside_registry",
    blocking=True,
    pool="duckdb",
    description="Fails when the run's audit found any unmeasured person's id, account id or handle "
    "outside the registry.",
)
def no_unmeasured_person_outside_registry(
    context: AssetCheckExecutionContext, duckdb: DuckDBResource
) -> AssetCheckResult:
    with duckdb.get_connection() as conn:
        audit, found = WarehousePrivacy(conn, "").audit_of(context.run.run_id)
    if audit is None:
        return AssetCheckResult(passed=False, description="the audit did not run in this run")
    detail = bullet_list([f"{table}.{column}: {rows} rows" for table, column, rows in found])
    return AssetCheckResult(
        passed=audit[1] == 0,
        metadata={"tables_searched": audit[0], "findings": audit[1], "where": MetadataValue.md(detail)},
    )


# ---------------------------------------------------------------------------- subject requests
class SubjectRequest(Config):
    person_id: str
    out_dir: str = ""  # exports: default <warehouse folder>/exports


def _requested_by(context: OpExecutionContext) -> str:
    return f"dagster:{context.run.tags.get('dagster/user', 'ui')}:{context.run_id}"


@op(pool="duckdb", description="Everything the warehouse holds about one person, as JSON; audited in privacy.requests.")
def export_subject(
    context: OpExecutionContext, config: SubjectRequest, duckdb: DuckDBResource, social: SocialNetworks
) -> Output[str]:
    with duckdb.get_connection() as conn:
        request_id, path, counts = WarehousePrivacy(conn, social.pseudonym_salt).export_request(
            config.person_id, _requested_by(context), Path(config.out_dir) if config.out_dir else exports_dir()
        )
    return Output(str(path), metadata={"request_id": request_id, "tables": len(counts), "rows": sum(counts.values())})


@op(pool="duckdb", description="Erase one person now (the same purge as an opt-out); audited in privacy.requests.")
def erase_subject(
    context: OpExecutionContext, config: SubjectRequest, duckdb: DuckDBResource, social: SocialNetworks
) -> Output[str]:
    with duckdb.get_connection() as conn:
        request_id, counts = WarehousePrivacy(conn, social.pseudonym_salt).erase_request(
            config.person_id, _requested_by(context), datetime.now(UTC).date()
        )
        published = republish_if_published(conn, social.pseudonym_salt)
    return Output(
        request_id,
        metadata={
            "rows_forgotten": sum(counts.values()),
            "forgotten": MetadataValue.json(counts),
            "serving_snapshot": published.version if published else "none published",
        },
    )


@job(description="Subject access: export everything held about one person (config: person_id).")
def export_person():
    export_subject()


@job(description="Erasure on request: forget one person now and never measure them again (config: person_id).")
def erase_person():
    erase_subject()
