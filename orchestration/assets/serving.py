"""The serving snapshot: the last step of the daily run publishes what the site and the API show."""

from dagster import AssetExecutionContext, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from ..keys import DAILY_MARTS, PRIVACY_AUDIT, SERVING_GROUP, SERVING_SNAPSHOT
from ..partitions import PARTITIONED
from ..resources import SocialNetworks
from ..serving_tables import publish_serving_snapshot


@asset(
    key=SERVING_SNAPSHOT,
    deps=[PRIVACY_AUDIT, *DAILY_MARTS],
    group_name=SERVING_GROUP,
    description="What the site and the API show: the active formula's latest scored day, in a separate DuckDB "
    "file per content version, swapped in atomically (current.json); the site never reads the warehouse.",
    **PARTITIONED,
)
def serving_snapshot(context: AssetExecutionContext, duckdb: DuckDBResource, social: SocialNetworks):
    with duckdb.get_connection() as conn:
        published = publish_serving_snapshot(conn, social.pseudonym_salt)
    if published is None:
        return MaterializeResult(metadata={"note": "nothing scored yet: nothing published"})
    said = "published" if published.replaced else "unchanged"
    return MaterializeResult(
        metadata={
            "rows": int(published.meta.get("people", 0)),
            "note": f"{said}: snapshot {published.version}, as of {published.as_of}",
            "version": published.version,
            "as_of": published.as_of,
            "formula_version": published.formula_version,
            "replaced": published.replaced,
            "path": str(published.path),
        }
    )
