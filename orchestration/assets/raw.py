"""Raw landing assets: platform data, then one multi-asset per network, daily-partitioned."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from connectors.http import ConnectorError, HttpStatusError
from connectors.landing import PLATFORM_TABLES, ensure_raw_tables, ingest_day, land_platform
from connectors.privacy import PrivacyGate

from ..forgetting import Unmeasured, WarehousePrivacy
from ..partitions import daily_partitions, single_run, window_days
from ..progress import each_day
from ..resources import SocialNetworks
from .privacy import UNMEASURED

RAW_GROUP = "raw"
NETWORK_TABLES = ("accounts", "posts", "reactions")
PLATFORM_LINKS = AssetKey(["raw", "platform_links"])
PLATFORM_PROFILES = AssetKey(["raw", "platform_profiles"])


@multi_asset(
    name="raw_platform",
    specs=[AssetSpec(["raw", f"platform_{t}"], group_name=RAW_GROUP) for t in PLATFORM_TABLES],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
)
def raw_platform(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks):
    """Registered profiles, their linked accounts, +K gives and perk campaigns from our platform."""
    totals: dict[str, int] = {t: 0 for t in PLATFORM_TABLES}
    with duckdb.get_connection() as conn:
        ensure_raw_tables(conn, social.networks)
        for day in each_day(context, window_days(*context.partition_time_window)):
            social.observe_day(day)
            report = land_platform(conn, social.platform(), day)
            for table, count in report.rows.items():
                totals[table.removeprefix("platform_")] = totals.get(table.removeprefix("platform_"), 0) + count
    for table in PLATFORM_TABLES:
        yield MaterializeResult(asset_key=["raw", f"platform_{table}"], metadata={"rows": totals.get(table, 0)})


def tracked_handles(conn, network: str, day, public_handles: list[str], unmeasured: Unmeasured) -> list[str]:
    """Accounts to fetch: those linked by registered profiles as of `day`, plus public accounts,
    less every unmeasured person's (the privacy gate applies before anything is fetched)."""
    linked = conn.execute(
        """
        select distinct handle from raw.platform_links
        where network = ?
          and partition_day = (select max(partition_day) from raw.platform_links where partition_day <= ?)
        """,
        [network, day],
    ).fetchall()
    excluded = {h for n, h in unmeasured.handles if n == network}
    return sorted(({h for (h,) in linked} | set(public_handles)) - excluded)


def resolved_id(client, handle: str, tolerate_failure: bool = True) -> str | None:
    """The handle's account id, or None when the account is gone (or, if tolerated, cannot be
    read now: the account's own fetch will fail and report it). An unmeasured person's handle
    tolerates no failure: we do not land data we might not be allowed to keep."""
    try:
        return client.resolve_account(handle).account_id
    except HttpStatusError as exc:
        if exc.status in (400, 404):  # XRPC answers unknown actors with 400
            return None
        if not tolerate_failure:
            raise
    except ConnectorError:
        if not tolerate_failure:
            raise
    return None


def privacy_gate(
    client,
    network: str,
    unmeasured: Unmeasured,
    tracked: list[str],
    consenting_handles: list[str],
    landed_ids: set[str],
    salt: str,
) -> tuple[PrivacyGate, dict[str, str]]:
    """The gate of `network`: unmeasured people's accounts (account id -> person id, also
    returned for the registry), the private accounts whose owners consented, and the accounts
    measured at all: the tracked ones (resolved now, or landed before), nobody else."""
    owners = {a: p for n, a, p in unmeasured.accounts if n == network}
    for (linked_network, handle), person in sorted(unmeasured.handles.items()):
        if linked_network == network and (account_id := resolved_id(client, handle, tolerate_failure=False)):
            owners[account_id] = person
    consented = {i for i in (resolved_id(client, h) for h in consenting_handles) if i}
    measured = ({i for i in (resolved_id(client, h) for h in tracked) if i} | landed_ids) - set(owners)
    return PrivacyGate(
        network, frozenset(owners), salt, frozenset(consented - set(owners)), frozenset(measured)
    ), owners


def landed_account_ids(conn, network: str) -> set[str]:
    """Accounts measured before (unmeasured ones are purged from raw): still measured if today's
    lookup of their handle fails."""
    return {a for (a,) in conn.execute(f"select distinct account_id from raw.{network}_accounts").fetchall()}


def network_raw_asset(network: str):
    @multi_asset(
        name=f"raw_{network}",
        specs=[AssetSpec(["raw", f"{network}_{t}"], group_name=RAW_GROUP, deps=[UNMEASURED]) for t in NETWORK_TABLES],
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        pool="duckdb",
    )
    def _raw(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks):
        totals = {t: 0 for t in NETWORK_TABLES}
        failures: list[str] = []
        with duckdb.get_connection() as conn:
            ensure_raw_tables(conn, social.networks)
            client = social.client(network)
            registry = WarehousePrivacy(conn, social.pseudonym_salt)
            days = window_days(*context.partition_time_window)
            for day in each_day(context, days):
                social.observe_day(day)
                unmeasured = registry.unmeasured(day)  # ages on the day; opt-outs by the latest registry
                handles = tracked_handles(conn, network, day, social.public_handles(network), unmeasured)
                gate, resolved = privacy_gate(
                    client,
                    network,
                    unmeasured,
                    handles,
                    registry.consenting_private_handles(network),
                    landed_account_ids(conn, network),
                    social.pseudonym_salt,
                )
                registry.record_accounts(network, resolved)
                report = ingest_day(conn, client, handles, day, lookback_days=social.lookback_days, privacy=gate)
                # what others' rows say of them (a post that mentions them), by every id the gate just
                # resolved too: redacted before anyone reads it
                registry.purge(registry.unmeasured(day), tables=[f"raw.{network}_{t}" for t in NETWORK_TABLES])
                for table, count in report.rows.items():
                    totals[table.removeprefix(f"{network}_")] += count
                for failure in report.failures:
                    failures.append(f"{day} {failure}")
                    context.log.warning(f"{network}: account failed and kept its previous rows: {failure}")
                if handles and len(report.failures) == len(handles):
                    raise Failure(f"{network}: every account failed on {day}; first: {report.failures[0]}")
        for table in NETWORK_TABLES:
            yield MaterializeResult(
                asset_key=["raw", f"{network}_{table}"],
                metadata={
                    "rows": totals[table],
                    "failed_accounts": len(failures),
                    "failures": MetadataValue.md("\n".join(f"- {f}" for f in failures) or "none"),
                },
            )

    return _raw


raw_network_assets = [network_raw_asset(network) for network in ("mastodon", "bluesky")]
