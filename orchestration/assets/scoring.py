"""Score, score changes, the leaderboard and the influence graph: wiring over domain.score.

Every asset here is keyed by formula version. Run config `formula_version` (default: the active
version) lets a new version be backfilled beside the active one without touching what users see.
"""

from datetime import timedelta

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, asset, multi_asset
from dagster_duckdb import DuckDBResource

from domain.formula import load_product
from domain.rings import Discounts
from domain.score import EngagementEvents, score_changes, score_people_on

from ..dbt_project import dbt_key
from ..formulas import FormulaConfig, versioned
from ..keys import INFLUENCE_GRAPH, KPLUS_LEDGER, LEADERBOARD, SCORE_CHANGES, SCORES, SCORES_GROUP
from ..partitions import PARTITIONED, partition_days
from ..progress import each_day
from ..reports import RunningScores, markdown_table
from ..warehouse import EngagementMemo, Warehouse

INFLUENCE_TOP_N = 5


@multi_asset(
    name="marts__scores_and_influence_graph",
    specs=[
        AssetSpec(
            SCORES,
            deps=[
                dbt_key("fct_features_90d"),
                dbt_key("fct_engagement_daily"),
                dbt_key("int_engagement_events"),
                dbt_key("stg_platform__profiles"),
            ]
            + [KPLUS_LEDGER],
            description="Daily 1-100 influence score per person and formula version, "
            "with network subscores and contributions.",
            **versioned(group_name=SCORES_GROUP),
        ),
        AssetSpec(
            INFLUENCE_GRAPH,
            deps=[dbt_key("int_engagement_events")],
            description="For each person, the top people they influence and the top people who influence them.",
            **versioned(group_name=SCORES_GROUP),
        ),
    ],
    **PARTITIONED,
)
def scores_and_influence_graph(context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource):
    """One step for both: the day's PageRank flows feed the score and the influence graph. Each day
    is written as soon as it is scored, so memory holds one day's output, not the backfill's."""
    formula, days, seen = config.formula(), partition_days(context), RunningScores()
    with duckdb.get_connection() as conn:
        iterations = _score_each_day(context, Warehouse(conn), formula, days, seen)
    yield MaterializeResult(
        asset_key=SCORES,
        metadata={"formula_version": formula.version, "pagerank_iterations": iterations, **seen.metadata()},
    )
    yield MaterializeResult(
        asset_key=INFLUENCE_GRAPH, metadata={"rows": seen.graph_rows, "formula_version": formula.version}
    )


def window_engagement(warehouse: Warehouse, formula, days) -> EngagementEvents:
    """The engagement of the windows of `days`, with the post counts the formula's discounts need."""
    window = formula.section("features")["window_days"]
    coverage = Discounts.from_section(formula.config.get("discounts")).indiscriminate.enabled
    rows = EngagementMemo(warehouse.conn).edge_days(days[0] - timedelta(days=window - 1), days[-1], keep_days=window)
    return EngagementEvents(rows, formula, warehouse.window_posts(days, window) if coverage else None)


def _score_each_day(context: AssetExecutionContext, warehouse: Warehouse, formula, days, seen: RunningScores) -> int:
    """Score and write each day in turn; returns the PageRank iterations. Each day's PageRank starts
    from the day before's ranks, stored, so a daily run starts as a backfill's loop does."""
    events = window_engagement(warehouse, formula, days)
    profiles = warehouse.profiles()
    kplus = formula.section("kplus")
    accepted = warehouse.accepted_kplus(days, kplus["window_days"]) if kplus["enabled"] else None
    ranks, iterations = warehouse.pagerank_ranks(formula.version, days[0] - timedelta(days=1)), 0
    for day in each_day(context, days):
        flows = events.flows(day, start=ranks)
        graph, scored = score_people_on(
            day, warehouse.features_on(day), events, profiles, formula, accepted, INFLUENCE_TOP_N, flows=flows
        )
        seen.add(warehouse.write_versioned("marts.influence_graph", graph, [day], formula.version), scored)
        warehouse.write_versioned("marts.scores", scored, [day], formula.version)
        warehouse.write_pagerank_ranks(formula.version, day, flows.ranks)
        iterations += flows.iterations
        ranks = flows.ranks
    return iterations


@asset(
    key=SCORE_CHANGES,
    deps=[SCORES],
    description="Delta since yesterday and the top reasons: why your score changed.",
    **versioned(group_name=SCORES_GROUP, **PARTITIONED),
)
def score_changes_asset(
    context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource
) -> MaterializeResult:
    formula, days, rows = config.formula(), partition_days(context), 0
    with duckdb.get_connection() as conn:
        warehouse = Warehouse(conn)
        yesterday = warehouse.scores_on(formula.version, days[0] - timedelta(days=1))
        for day in each_day(context, days):  # one day in memory at a time, each written atomically
            today = warehouse.scores_on(formula.version, day)
            changes = score_changes(today, yesterday) if len(today) else pd.DataFrame()
            rows += warehouse.write_versioned("marts.score_changes", changes, [day], formula.version)
            yesterday = today
    return MaterializeResult(metadata={"rows": rows, "formula_version": formula.version})


@asset(
    key=LEADERBOARD,
    deps=[SCORES],
    description="The top influencers per day and formula version.",
    **versioned(group_name=SCORES_GROUP, **PARTITIONED),
)
def leaderboard(context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource) -> MaterializeResult:
    formula, days = config.formula(), partition_days(context)
    with duckdb.get_connection() as conn:
        warehouse = Warehouse(conn)
        board = warehouse.leaderboard(formula.version, days, load_product()["leaderboards"]["board_size"])
        warehouse.write_versioned("marts.leaderboard", board, days, formula.version)
    latest = board[board["day"] == board["day"].max()] if len(board) else board
    return MaterializeResult(metadata={"rows": len(board), "latest": MetadataValue.md(markdown_table(latest))})
