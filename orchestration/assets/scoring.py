"""Score, score changes, the leaderboard and the influence graph: thin assets over domain.score.

Every asset here is keyed by formula version. Run config `formula_version` (default: the active
version) lets a new version be backfilled beside the active one without touching what users see.
"""

from datetime import timedelta

import numpy as np
import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from dagster_duckdb import DuckDBResource

from ..domain.formula import Formula, load_formula, load_product
from ..domain.kplus import kplus_points
from ..domain.privacy import minors_on
from ..domain.score import EngagementEvents, influence_graph, score_changes, score_day
from ..partitions import daily_partitions, single_run, window_days
from ..progress import each_day
from ..warehouse import replace_rows

FEATURES = AssetKey(["marts", "fct_features_90d"])
EVENTS = AssetKey(["intermediate", "int_engagement_events"])
PROFILES = AssetKey(["staging", "stg_platform__profiles"])
KPLUS_LEDGER = AssetKey(["marts", "kplus_ledger"])
SCORES = AssetKey(["marts", "scores"])
INFLUENCE_GRAPH = AssetKey(["marts", "influence_graph"])
ACTIVE = load_formula()
INFLUENCE_TOP_N = 5
# Materialising these assets means "score with the active formula"; the UI flags them when it changes.
VERSIONED = dict(
    partitions_def=daily_partitions, backfill_policy=single_run, pool="duckdb", code_version=ACTIVE.content_hash
)


class FormulaConfig(Config):
    formula_version: str = ""  # empty: the active version (KLOUT_FORMULA_VERSION)

    def formula(self) -> Formula:
        return load_formula(self.formula_version or None)


def read(conn, sql: str, params: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, params or []).df()


def read_optional(conn, table: str, sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    """`sql` over `table`, or no rows when nothing has ever been written to it (an empty first day)."""
    schema, name = table.split(".")
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()[0][0]
    return read(conn, sql, params) if exists else pd.DataFrame(columns=columns)


def read_profiles(conn) -> pd.DataFrame:
    return read(conn, "select person_id, birth_date from staging.stg_platform__profiles order by person_id")


def window_events(conn, days, formula: Formula) -> pd.DataFrame:
    """Engagement events covering the rolling windows of `days`."""
    window = formula.section("features")["window_days"]
    return read(
        conn,
        "select reactor_person_id, target_person_id, network, event_day from intermediate.int_engagement_events"
        " where event_day between ? and ?",  # no order needed: EngagementEvents sorts what it uses
        [days[0] - timedelta(days=window - 1), days[-1]],
    )


def accepted_kplus(conn, days, window_days_: int) -> pd.DataFrame:
    return read_optional(
        conn,
        "marts.kplus_ledger",
        "select recipient_person_id, topic_slug, given_at from marts.kplus_ledger"
        " where given_day between ? and ? order by all",
        [days[0] - timedelta(days=window_days_ - 1), days[-1]],
        ["recipient_person_id", "topic_slug", "given_at"],
    )


def with_kplus(scored: pd.DataFrame, accepted: pd.DataFrame, day, formula: Formula) -> pd.DataFrame:
    """+K moves a score only when the formula enables it, and by at most `max_points`."""
    cfg = formula.section("kplus")
    points = kplus_points(
        accepted, day, cfg["window_days"], enabled=True, cap=cfg["max_points"], points_per_give=cfg["points_per_give"]
    )
    adjustment = scored["person_id"].map(points.set_index("person_id")["score_adjustment"]).fillna(0.0)
    return scored.assign(score=(scored["score"] + adjustment).clip(upper=100.0).round(2))


def write_versioned(conn, table: str, frame: pd.DataFrame, days, formula: Formula) -> None:
    replace_rows(conn, table, frame, day_column="day", days=days, extra_keys={"formula_version": formula.version})


@multi_asset(
    name="marts__scores_and_influence_graph",
    specs=[
        AssetSpec(
            SCORES,
            deps=[FEATURES, EVENTS, PROFILES, KPLUS_LEDGER],
            group_name="scores",
            code_version=ACTIVE.content_hash,
            description="Daily 1-100 influence score per person and formula version, "
            "with network subscores and contributions.",
        ),
        AssetSpec(
            INFLUENCE_GRAPH,
            deps=[EVENTS],
            group_name="scores",
            code_version=ACTIVE.content_hash,
            description="For each person, the top people they influence and the top people who influence them.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
)
def scores_and_influence_graph(context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource):
    """One asset step for both: the day's PageRank flows feed the score and the influence graph.

    Each day is written as soon as it is scored (atomically, per day), so memory holds one day's
    output, not the whole backfill's.
    """
    formula = config.formula()
    days = window_days(*context.partition_time_window)
    scores_seen, graph_rows = [], 0
    with duckdb.get_connection() as conn:
        events = EngagementEvents(window_events(conn, days, formula), formula)
        profiles = read_profiles(conn)
        kplus_cfg = formula.section("kplus")
        kplus = accepted_kplus(conn, days, kplus_cfg["window_days"]) if kplus_cfg["enabled"] else None
        for day in each_day(context, days):
            flows = events.flows(day)
            graph = influence_graph(flows, top_n=INFLUENCE_TOP_N)
            graph.insert(1, "day", day)
            graph.insert(2, "formula_version", formula.version)
            write_versioned(conn, "marts.influence_graph", graph, [day], formula)
            graph_rows += len(graph)
            todays = read(
                conn, "select * from marts.fct_features_90d where as_of_day = ? order by person_id, network", [day]
            )
            todays = todays[~todays["person_id"].isin(minors_on(profiles, day))]  # minors are never scored
            scored = score_day(todays, flows, day, formula) if len(todays) else pd.DataFrame()
            if kplus is not None and len(scored):
                scored = with_kplus(scored, kplus, day, formula)
            write_versioned(conn, "marts.scores", scored, [day], formula)
            if len(scored):
                scores_seen.append(scored["score"].to_numpy())
    result = pd.DataFrame({"score": np.concatenate(scores_seen) if scores_seen else np.zeros(0)})
    yield MaterializeResult(
        asset_key=SCORES,
        metadata={
            "rows": len(result),
            "formula_version": formula.version,
            "mean_score": float(result["score"].mean()) if len(result) else 0.0,
            "p95_score": float(result["score"].quantile(0.95)) if len(result) else 0.0,
        },
    )
    yield MaterializeResult(
        asset_key=INFLUENCE_GRAPH, metadata={"rows": graph_rows, "formula_version": formula.version}
    )


@asset(
    key=["marts", "score_changes"],
    deps=[SCORES],
    group_name="scores",
    description="Delta since yesterday and the top reasons: why your score changed.",
    **VERSIONED,
)
def score_changes_asset(
    context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource
) -> MaterializeResult:
    formula = config.formula()
    days = window_days(*context.partition_time_window)
    rows = 0
    with duckdb.get_connection() as conn:
        yesterday = day_scores(conn, formula, days[0] - timedelta(days=1))
        for day in each_day(context, days):  # one day in memory at a time, each written atomically
            today = day_scores(conn, formula, day)
            changes = score_changes(today, yesterday) if len(today) else pd.DataFrame()
            write_versioned(conn, "marts.score_changes", changes, [day], formula)
            rows += len(changes)
            yesterday = today
    return MaterializeResult(metadata={"rows": rows, "formula_version": formula.version})


def day_scores(conn, formula: Formula, day) -> pd.DataFrame:
    scores = read(
        conn,
        "select * from marts.scores where formula_version = ? and day = ? order by person_id",
        [formula.version, day],
    )
    return scores.assign(day=day)  # a date, as written, so a new table gets a DATE column


@asset(
    key=["marts", "leaderboard"],
    deps=[SCORES],
    group_name="scores",
    description="The top influencers per day and formula version.",
    **VERSIONED,
)
def leaderboard(context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource) -> MaterializeResult:
    formula = config.formula()
    size = load_product()["leaderboards"]["board_size"]
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        board = read(
            conn,
            """
            select s.day, s.formula_version,
                   row_number() over (partition by s.day order by s.score desc, s.person_id) as rank,
                   s.person_id, s.score
            from marts.scores as s
            where s.formula_version = ? and s.day between ? and ?
            qualify rank <= ?
            order by s.day, rank
            """,
            [formula.version, days[0], days[-1], size],
        )
        board["day"] = pd.to_datetime(board["day"]).dt.date
        write_versioned(conn, "marts.leaderboard", board, days, formula)
    latest = board[board["day"] == board["day"].max()] if len(board) else board
    return MaterializeResult(
        metadata={
            "rows": len(board),
            "latest": MetadataValue.md(latest.to_markdown(index=False) if len(latest) else "empty"),
        }
    )
