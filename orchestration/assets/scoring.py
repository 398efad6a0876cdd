"""Score, score changes and the leaderboard: thin assets over orchestration.domain.score."""

from datetime import timedelta

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from ..domain.formula import load_formula
from ..domain.score import day_flows, influence_graph, score_changes, score_day
from ..partitions import daily_partitions, single_run, window_days
from ..warehouse import replace_rows

FEATURES = AssetKey(["marts", "fct_features_90d"])
EVENTS = AssetKey(["intermediate", "int_engagement_events"])
FORMULA = load_formula()
LEADERBOARD_SIZE = 10
INFLUENCE_TOP_N = 5


def _read(conn, sql: str, params: list) -> pd.DataFrame:
    return conn.execute(sql, params).df()


def _window_events(conn, days) -> pd.DataFrame:
    """Engagement events covering the rolling windows of `days`."""
    window = FORMULA.section("features")["window_days"]
    return _read(
        conn,
        "select reactor_person_id, target_person_id, network, event_day from intermediate.int_engagement_events"
        " where event_day between ? and ? order by all",
        [days[0] - timedelta(days=window - 1), days[-1]],
    )


@asset(
    key=["marts", "scores"],
    deps=[FEATURES, EVENTS],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
    code_version=FORMULA.content_hash,
    group_name="scores",
    description="Daily 1-100 influence score per person, with network subscores and contributions.",
)
def scores(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        features = _read(
            conn, "select * from marts.fct_features_90d where as_of_day between ? and ? order by as_of_day, person_id, network", [days[0], days[-1]]
        )
        events = _window_events(conn, days)
        frames = [
            score_day(features[features["as_of_day"] == pd.Timestamp(day)], events, day, FORMULA)
            for day in days
            if (features["as_of_day"] == pd.Timestamp(day)).any()
        ]
        result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if not result.empty:
            replace_rows(conn, "marts.scores", result, day_column="day", days=days, extra_keys={"formula_version": FORMULA.version})
    return MaterializeResult(
        metadata={
            "rows": len(result),
            "formula_version": FORMULA.version,
            "mean_score": float(result["score"].mean()) if len(result) else 0.0,
            "p95_score": float(result["score"].quantile(0.95)) if len(result) else 0.0,
        }
    )


@asset(
    key=["marts", "score_changes"],
    deps=[scores],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
    code_version=FORMULA.content_hash,
    group_name="scores",
    description="Delta since yesterday and the top reasons: why your score changed.",
)
def score_changes_asset(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        history = _read(
            conn,
            "select * from marts.scores where formula_version = ? and day between ? and ? order by day, person_id",
            [FORMULA.version, days[0] - timedelta(days=1), days[-1]],
        )
        history["day"] = pd.to_datetime(history["day"]).dt.date
        frames = [
            score_changes(history[history["day"] == day], history[history["day"] == day - timedelta(days=1)])
            for day in days
            if (history["day"] == day).any()
        ]
        result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if not result.empty:
            replace_rows(conn, "marts.score_changes", result, day_column="day", days=days, extra_keys={"formula_version": FORMULA.version})
    return MaterializeResult(metadata={"rows": len(result)})


@asset(
    key=["marts", "leaderboard"],
    deps=[scores],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
    code_version=FORMULA.content_hash,
    group_name="scores",
    description=f"Top {LEADERBOARD_SIZE} influencers per day.",
)
def leaderboard(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        conn.execute("create schema if not exists marts")
        board = _read(
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
            [FORMULA.version, days[0], days[-1], LEADERBOARD_SIZE],
        )
        board["day"] = pd.to_datetime(board["day"]).dt.date
        replace_rows(conn, "marts.leaderboard", board, day_column="day", days=days, extra_keys={"formula_version": FORMULA.version})
    latest = board[board["day"] == board["day"].max()] if len(board) else board
    return MaterializeResult(
        metadata={"rows": len(board), "latest": MetadataValue.md(latest.to_markdown(index=False) if len(latest) else "empty")}
    )


@asset(
    key=["marts", "influence_graph"],
    deps=[FEATURES, EVENTS],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
    code_version=FORMULA.content_hash,
    group_name="scores",
    description="For each person, the top people they influence and the top people who influence them.",
)
def influence_graph_asset(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        events = _window_events(conn, days)
        frames = []
        for day in days:
            graph = influence_graph(day_flows(events, day, FORMULA), top_n=INFLUENCE_TOP_N)
            graph.insert(1, "day", day)
            graph.insert(2, "formula_version", FORMULA.version)
            frames.append(graph)
        result = pd.concat(frames, ignore_index=True)
        replace_rows(conn, "marts.influence_graph", result, day_column="day", days=days, extra_keys={"formula_version": FORMULA.version})
    return MaterializeResult(metadata={"rows": len(result)})
