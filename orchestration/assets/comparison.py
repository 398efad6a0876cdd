"""Compare two formula versions over a partition range before switching the active one."""

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, Config, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from ..domain.compare import compare_versions
from ..domain.formula import active_version
from ..partitions import daily_partitions, single_run, window_days
from ..progress import each_day
from ..warehouse import replace_rows
from .scoring import SCORES, read

REVIEW_GROUP = "formula_review"


class ComparisonConfig(Config):
    candidate: str  # the version being evaluated, e.g. "v2"
    baseline: str = ""  # empty: the active version
    top_movers: int = 10


@multi_asset(
    specs=[
        AssetSpec(
            ["marts", "formula_comparison"],
            deps=[SCORES],
            group_name=REVIEW_GROUP,
            description="Per day: rank correlation and both score distributions of two formula versions.",
        ),
        AssetSpec(
            ["marts", "formula_movers"],
            deps=[SCORES],
            group_name=REVIEW_GROUP,
            description="Per day: the biggest movers between two formula versions and why.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
)
def formula_comparison(context: AssetExecutionContext, config: ComparisonConfig, duckdb: DuckDBResource):
    baseline = config.baseline or active_version()
    days = window_days(*context.partition_time_window)
    summaries, movers = [], []
    with duckdb.get_connection() as conn:
        rows = read(
            conn,
            "select * from marts.scores where formula_version in (?, ?) and day between ? and ?"
            " order by day, person_id",
            [baseline, config.candidate, days[0], days[-1]],
        )
        rows["day"] = pd.to_datetime(rows["day"]).dt.date
        for day in each_day(context, days):
            todays = rows[rows["day"] == day]
            base, cand = (
                todays[todays["formula_version"] == v].drop(columns=["day", "formula_version"])
                for v in (baseline, config.candidate)
            )
            if base.empty or cand.empty:
                context.log.warning(
                    f"{day}: no scores for {baseline if base.empty else config.candidate}; materialise them first"
                )
                continue
            summary, top = compare_versions(base, cand, config.top_movers)
            keys = {"day": day, "baseline": baseline, "candidate": config.candidate}
            summaries.append({**keys, **summary})
            movers.append(top.assign(**keys))
        keys = {"baseline": baseline, "candidate": config.candidate}
        summary_frame = pd.DataFrame(summaries)
        movers_frame = pd.concat(movers, ignore_index=True) if movers else pd.DataFrame()
        if len(summary_frame):
            replace_rows(conn, "marts.formula_comparison", summary_frame, day_column="day", days=days, extra_keys=keys)
            replace_rows(conn, "marts.formula_movers", movers_frame, day_column="day", days=days, extra_keys=keys)
    report = (
        summary_frame[["day", "spearman", "baseline_mean", "candidate_mean", "baseline_p95", "candidate_p95"]]
        if len(summary_frame)
        else summary_frame
    )
    yield MaterializeResult(
        asset_key=["marts", "formula_comparison"],
        metadata={
            "baseline": baseline,
            "candidate": config.candidate,
            "report": MetadataValue.md(report.to_markdown(index=False) if len(report) else "no overlapping scores"),
        },
    )
    latest = movers_frame[movers_frame["day"] == movers_frame["day"].max()] if len(movers_frame) else movers_frame
    yield MaterializeResult(
        asset_key=["marts", "formula_movers"],
        metadata={
            "latest_movers": MetadataValue.md(
                latest[["rank", "person_id", "score_baseline", "score_candidate", "delta", "reasons"]].to_markdown(
                    index=False
                )
                if len(latest)
                else "none"
            ),
        },
    )
