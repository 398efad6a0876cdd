"""Raw landing assets: platform data, then one multi-asset per registered network, daily-partitioned."""

from collections import Counter

from dagster import AssetExecutionContext, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from connectors import NETWORKS
from connectors.landing import NETWORK_TABLES, PLATFORM_TABLES, ensure_raw_tables, land_platform

from ..keys import RAW_GROUP, UNMEASURED, raw_key
from ..landing import NetworkLanding
from ..partitions import PARTITIONED, partition_days
from ..progress import each_day
from ..reports import bullet_list
from ..resources import SocialNetworks


@multi_asset(
    name="raw_platform",
    specs=[AssetSpec(raw_key(f"platform_{t}"), group_name=RAW_GROUP) for t in PLATFORM_TABLES],
    **PARTITIONED,
)
def raw_platform(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks):
    """Registered profiles, their linked accounts, +K gives and perk campaigns from our platform."""
    totals: Counter = Counter({t: 0 for t in PLATFORM_TABLES})
    skipped = skip_note(context, social.platform_skip_reason())
    with duckdb.get_connection() as conn:
        ensure_raw_tables(conn, social.networks)
        for day in [] if skipped else each_day(context, partition_days(context)):
            social.observe_day(day)
            totals.update(
                {t.removeprefix("platform_"): n for t, n in land_platform(conn, social.platform(), day).rows.items()}
            )
    for table in PLATFORM_TABLES:
        yield MaterializeResult(asset_key=raw_key(f"platform_{table}"), metadata={"rows": totals[table], **skipped})


def skip_note(context: AssetExecutionContext, reason: str | None) -> dict:
    """A source that is not configured is reported (one line, and `note` in the metadata), not failed."""
    if reason:
        context.log.warning(reason)
    return {"note": reason} if reason else {}


def network_raw_asset(network: str):
    @multi_asset(
        name=f"raw_{network}",
        specs=[AssetSpec(raw_key(f"{network}_{t}"), group_name=RAW_GROUP, deps=[UNMEASURED]) for t in NETWORK_TABLES],
        **PARTITIONED,
    )
    def _raw(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks):
        totals, failures = Counter({t: 0 for t in NETWORK_TABLES}), []
        skipped = skip_note(context, social.skip_reason(network))
        with duckdb.get_connection() as conn:
            landing = NetworkLanding(conn, social, network)
            for day in [] if skipped else each_day(context, partition_days(context)):
                handles, report = landing.land(day)
                totals.update({t.removeprefix(f"{network}_"): n for t, n in report.rows.items()})
                for failure in report.failures:
                    failures.append(f"{day} {failure}")
                    context.log.warning(f"{network}: account failed and kept its previous rows: {failure}")
                if handles and len(report.failures) == len(handles):
                    raise Failure(f"{network}: every account failed on {day}; first: {report.failures[0]}")
        failed = {"failed_accounts": len(failures), "failures": MetadataValue.md(bullet_list(failures)), **skipped}
        failed |= landing.traffic()
        for table in NETWORK_TABLES:
            yield MaterializeResult(asset_key=raw_key(f"{network}_{table}"), metadata={"rows": totals[table], **failed})

    return _raw


raw_network_assets = [network_raw_asset(network) for network in NETWORKS]
