"""Raw landing assets: platform data, then one multi-asset for every registered network's tables
(the selected networks landed at once), daily-partitioned."""

from collections import Counter

from dagster import AssetExecutionContext, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from connectors import NETWORKS
from connectors.landing import NETWORK_TABLES, PLATFORM_TABLES, ensure_raw_tables, land_platform

from ..keys import RAW_GROUP, UNMEASURED, raw_key
from ..landing import EveryAccountFailed, NetworkDays, land_networks
from ..partitions import PARTITIONED, partition_days
from ..progress import counted, each_day
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


# every registered network's raw tables: asset key -> (network, table kind)
NETWORK_KEYS = {raw_key(f"{network}_{table}"): (network, table) for network in NETWORKS for table in NETWORK_TABLES}


@multi_asset(
    name="raw_networks",
    specs=[AssetSpec(key, group_name=RAW_GROUP, deps=[UNMEASURED]) for key in NETWORK_KEYS],
    can_subset=True,
    **PARTITIONED,
)
def raw_networks(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks):
    """The selected networks landed at once (a thread each, its days in order): their fetching
    overlaps, each within its own rate budget; DuckDB is read and written by one at a time. A
    network selected by any of its tables lands all of them, in one transaction a day."""
    selected = [n for n in NETWORKS if any(NETWORK_KEYS[key][0] == n for key in context.selected_asset_keys)]
    skipped = {n: note for n in selected if (note := skip_note(context, social.skip_reason(n)))}
    landed = [n for n in selected if n not in skipped]
    days = partition_days(context)
    with duckdb.get_connection() as conn:
        outcomes = land_networks(conn, social, landed, days, counted(context, len(days) * len(landed)))
    outcomes += [NetworkDays(network) for network in skipped]
    yield from network_results(context, outcomes, skipped)


def network_results(context: AssetExecutionContext, outcomes: list[NetworkDays], skipped: dict[str, dict]):
    """Each network's selected materializations (failed accounts logged and in the metadata); then,
    if any network failed, one Failure naming them all."""
    for outcome in outcomes:
        for failure in outcome.failures:
            context.log.warning(f"{outcome.network}: account failed and kept its previous rows: {failure}")
        if outcome.error is not None:
            continue
        metadata = {
            "failed_accounts": len(outcome.failures),
            "failures": MetadataValue.md(bullet_list(outcome.failures)),
            **skipped.get(outcome.network, {}),
            **outcome.traffic,
        }
        for key, (network, table) in NETWORK_KEYS.items():
            if network == outcome.network and key in context.selected_asset_keys:
                yield MaterializeResult(asset_key=key, metadata={"rows": outcome.rows[table], **metadata})
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    if failed:
        unexpected = next((o.error for o in failed if not isinstance(o.error, EveryAccountFailed)), None)
        raise Failure("; ".join(_describe(o.network, o.error) for o in failed)) from unexpected


def _describe(network: str, error: Exception) -> str:
    """`<network>: what stopped it` (an EveryAccountFailed names its network and day already)."""
    return str(error) if isinstance(error, EveryAccountFailed) else f"{network}: {type(error).__name__}: {error}"
