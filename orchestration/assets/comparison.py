"""Compare two formula versions over a partition range before switching the active one."""

from dagster import AssetExecutionContext, AssetSpec, Config, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from domain.compare import compare_days
from domain.formula import active_version

from ..keys import REVIEW_GROUP, SCORES, mart_key
from ..partitions import PARTITIONED, partition_days
from ..progress import each_day
from ..reports import markdown_table
from ..warehouse import Warehouse

COMPARISON, MOVERS = mart_key("formula_comparison"), mart_key("formula_movers")
REPORTED = ["day", "spearman", "baseline_mean", "candidate_mean", "baseline_p95", "candidate_p95"]
MOVER_COLUMNS = ["rank", "person_id", "score_baseline", "score_candidate", "delta", "reasons"]


class ComparisonConfig(Config):
    candidate: str  # the version being evaluated, e.g. "v2"
    baseline: str = ""  # empty: the active version
    top_movers: int = 10


@multi_asset(
    specs=[
        AssetSpec(
            COMPARISON,
            deps=[SCORES],
            group_name=REVIEW_GROUP,
            description="Per day: rank correlation and both score distributions of two formula versions.",
        ),
        AssetSpec(
            MOVERS,
            deps=[SCORES],
            group_name=REVIEW_GROUP,
            description="Per day: the biggest movers between two formula versions and why.",
        ),
    ],
    **PARTITIONED,
)
def formula_comparison(context: AssetExecutionContext, config: ComparisonConfig, duckdb: DuckDBResource):
    baseline, candidate, days = config.baseline or active_version(), config.candidate, partition_days(context)
    with duckdb.get_connection() as conn:
        warehouse = Warehouse(conn)
        rows = warehouse.scores_between([baseline, candidate], days[0], days[-1])
        summary, movers, missing = compare_days(rows, baseline, candidate, each_day(context, days), config.top_movers)
        for line in missing:
            context.log.warning(line)
        if len(summary):
            keys = {"baseline": baseline, "candidate": candidate}
            warehouse.write_days("marts.formula_comparison", summary, days, **keys)
            warehouse.write_days("marts.formula_movers", movers, days, **keys)
    report = markdown_table(summary[REPORTED] if len(summary) else summary, "no overlapping scores")
    yield MaterializeResult(
        asset_key=COMPARISON,
        metadata={"baseline": baseline, "candidate": candidate, "report": MetadataValue.md(report)},
    )
    latest = movers[movers["day"] == movers["day"].max()][MOVER_COLUMNS] if len(movers) else movers
    yield MaterializeResult(
        asset_key=MOVERS, metadata={"latest_movers": MetadataValue.md(markdown_table(latest, "none"))}
    )
