"""Raw landing assets: platform data, then one multi-asset per network, daily-partitioned."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from connectors.http import HttpStatusError
from connectors.landing import PLATFORM_TABLES, ensure_raw_tables, ingest_day, land_platform
from connectors.privacy import PrivacyGate, purge_excluded, purge_platform

from ..partitions import daily_partitions, single_run, window_days
from ..resources import SocialNetworks
from ..progress import each_day

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
            purge_platform(conn)
            for table, count in report.rows.items():
                totals[table.removeprefix("platform_")] = totals.get(table.removeprefix("platform_"), 0) + count
    for table in PLATFORM_TABLES:
        yield MaterializeResult(asset_key=["raw", f"platform_{table}"], metadata={"rows": totals.get(table, 0)})


def tracked_handles(conn, network: str, day, public_handles: list[str]) -> list[str]:
    """Accounts to fetch: those linked by registered profiles as of `day`, plus public accounts.

    Privacy gates, applied before anything is fetched: an opted-out person is not measured and a
    private account is used only with its owner's explicit consent.
    """
    linked = conn.execute(
        """
        select distinct l.handle
        from raw.platform_links as l
        join raw.platform_profiles as p on p.person_id = l.person_id and p.partition_day = l.partition_day
        where l.network = ? and l.partition_day = (select max(partition_day) from raw.platform_links where partition_day <= ?)
          and not p.opted_out
          and (not p.is_private or p.private_consent)
        order by 1
        """,
        [network, day],
    ).fetchall()
    return sorted({h for (h,) in linked} | set(public_handles))


def excluded_handles(conn, network: str, day) -> list[str]:
    """Accounts we must not measure: opted-out persons, private accounts without consent."""
    rows = conn.execute(
        """
        select distinct l.handle
        from raw.platform_links as l
        join raw.platform_profiles as p on p.person_id = l.person_id and p.partition_day = l.partition_day
        where l.network = ? and l.partition_day = (select max(partition_day) from raw.platform_links where partition_day <= ?)
          and (p.opted_out or (p.is_private and not p.private_consent))
        order by 1
        """,
        [network, day],
    ).fetchall()
    return [h for (h,) in rows]


def privacy_gate(client, network: str, handles: list[str], salt: str) -> PrivacyGate:
    """Resolve excluded handles to account ids. An account that cannot be resolved for any reason
    but "gone" fails the partition: we do not land data we might not be allowed to keep."""
    ids = set()
    for handle in handles:
        try:
            ids.add(client.resolve_account(handle).account_id)
        except HttpStatusError as exc:
            if exc.status not in (400, 404):  # XRPC answers unknown actors with 400
                raise
    return PrivacyGate(network, frozenset(ids), salt)


def network_raw_asset(network: str):
    @multi_asset(
        name=f"raw_{network}",
        specs=[
            AssetSpec(["raw", f"{network}_{t}"], group_name=RAW_GROUP, deps=[PLATFORM_LINKS, PLATFORM_PROFILES])
            for t in NETWORK_TABLES
        ],
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
            for day in each_day(context, window_days(*context.partition_time_window)):
                social.observe_day(day)
                handles = tracked_handles(conn, network, day, social.public_handles(network))
                gate = privacy_gate(client, network, excluded_handles(conn, network, day), social.pseudonym_salt)
                report = ingest_day(conn, client, handles, day, lookback_days=social.lookback_days, privacy=gate)
                purge_excluded(conn, gate)
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
