"""Topics, +K, topic leaderboards and perks: thin assets over orchestration.domain."""
from datetime import timedelta

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, asset, multi_asset
from dagster_duckdb import DuckDBResource

from ..domain.formula import feature_knobs, load_product
from ..domain.kplus import kplus_ledger as apply_kplus_rules
from ..domain.leaderboards import topic_leaderboards as build_topic_leaderboards
from ..domain.ontology import load_default_ontology
from ..domain.perks import perk_eligibility as select_perk_eligible
from ..domain.privacy import minors_on
from ..domain.score import day_numbers
from ..domain.topics import apply_profile_edits, assign_topics, engagement_factor, evidence_from_weights, post_topic_matches
from ..partitions import daily_partitions, single_run, window_days
from ..warehouse import replace_rows
from .scoring import VERSIONED, FormulaConfig, accepted_kplus, read, read_optional, read_profiles, SCORES, write_versioned

PRODUCT = load_product()
WINDOW_DAYS = feature_knobs()["window_days"]
ONTOLOGY = load_default_ontology()
POSTS = AssetKey(["intermediate", "int_post_engagement"])
EVENTS = AssetKey(["intermediate", "int_engagement_events"])
PROFILES = AssetKey(["staging", "stg_platform__profiles"])
KPLUS_GIVES = AssetKey(["staging", "stg_platform__kplus"])
CAMPAIGNS = AssetKey(["staging", "stg_platform__campaigns"])
EDITS = AssetKey(["staging", "stg_platform__topic_edits"])
COMMON = dict(partitions_def=daily_partitions, backfill_policy=single_run, pool="duckdb", group_name="topics")


def _evidence_knobs() -> dict:
    cfg = PRODUCT["topics"]
    return {k: cfg[k] for k in ("hashtag_weight", "word_weight", "engagement_floor", "mention_weight", "rollup_decay")}


@asset(key=["marts", "person_topics"], deps=[POSTS, EVENTS, PROFILES, EDITS], **COMMON,
       description="Each person's topics and expertise, from what they post and the engagement it earns.")
def person_topics(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    days = window_days(*context.partition_time_window)
    window = WINDOW_DAYS
    cfg = PRODUCT["topics"]
    with duckdb.get_connection() as conn:
        since = days[0] - timedelta(days=window - 1)
        posts = read(conn, "select person_id, post_key, post_day, text from intermediate.int_post_engagement"
                           " where post_day between ? and ? order by post_key", [since, days[-1]])
        reactions = read(conn, "select post_key, event_day, count(*) as reactions from intermediate.int_engagement_events"
                               " where reaction_type <> 'mention' and event_day between ? and ? group by all",
                         [since, days[-1]])
        mentions = read(conn, "select post_key, target_person_id as person_id, event_day from intermediate.int_engagement_events"
                               " where reaction_type = 'mention' and event_day between ? and ? order by all", [since, days[-1]])
        profiles = read_profiles(conn)
        edits = read(conn, "select person_id, editor_person_id, topic_slug, action, edited_day from staging.stg_platform__topic_edits"
                           " where edited_day <= ? order by edited_at, edit_id", [days[-1]])
        knobs = _evidence_knobs()
        # each post is matched once; a day only re-weighs its window's matches by what they earned so far
        matches = post_topic_matches(posts, ONTOLOGY, hashtag_weight=knobs["hashtag_weight"], word_weight=knobs["word_weight"])
        post_index = pd.Index(posts["post_key"])
        match_post = post_index.get_indexer(matches["post_key"])
        match_day = day_numbers(posts["post_day"])[match_post]
        reacted = reactions.assign(post=post_index.get_indexer(reactions["post_key"]), day=day_numbers(reactions["event_day"]))
        reacted = reacted[reacted["post"] >= 0].sort_values("day", kind="stable")
        mention_day, edit_day = day_numbers(mentions["event_day"]), day_numbers(edits["edited_day"])
        rows = experts = 0
        for day in days:
            today = day_numbers([day])[0]
            through_today = int(np.searchsorted(reacted["day"].to_numpy(), today, side="right"))
            earned = np.bincount(reacted["post"].to_numpy()[:through_today], weights=reacted["reactions"].to_numpy(dtype=float)[:through_today],
                                 minlength=len(posts))
            in_window = (match_day > today - window) & (match_day <= today)
            weights = matches[in_window].assign(
                weight=lambda f: f["strength"] * engagement_factor(earned[match_post[in_window]], knobs["engagement_floor"]))
            todays_mentions = mentions[(mention_day > today - window) & (mention_day <= today)]
            evidence = evidence_from_weights(weights, ONTOLOGY, todays_mentions, mention_weight=knobs["mention_weight"],
                                             rollup_decay=knobs["rollup_decay"])
            assigned = assign_topics(evidence, cfg["expert_top_pct"], cfg["min_evidence"])
            minors = minors_on(profiles, day)
            assigned = assigned[~assigned["person_id"].isin(minors)]  # minors are never ranked
            todays_edits = edits[edit_day <= today]
            todays_edits = todays_edits[~todays_edits["person_id"].isin(minors)]
            profile = apply_profile_edits(assigned, todays_edits)
            todays = assigned.merge(profile, on=["person_id", "topic_slug"], how="right").assign(day=day)
            todays["evidence"] = todays["evidence"].astype(float).round(9)
            replace_rows(conn, "marts.person_topics", todays, day_column="day", days=[day])  # one day in memory at a time
            rows += len(todays)
            experts += int(todays["is_expert"].fillna(False).astype(bool).sum())
    return MaterializeResult(metadata={"rows": rows, "experts": experts})


@multi_asset(
    specs=[
        AssetSpec(["marts", "kplus_ledger"], deps=[KPLUS_GIVES, person_topics], group_name="topics",
                  description="+K gives accepted under the rules."),
        AssetSpec(["marts", "kplus_rejected"], deps=[KPLUS_GIVES, person_topics], group_name="topics",
                  description="Every refused +K give with its reason: nothing is dropped silently."),
    ],
    partitions_def=daily_partitions, backfill_policy=single_run, pool="duckdb",
)
def kplus(context: AssetExecutionContext, duckdb: DuckDBResource):
    cfg = PRODUCT["kplus_rules"]
    days = window_days(*context.partition_time_window)
    accepted_total = rejected_total = 0
    with duckdb.get_connection() as conn:
        conn.execute("create schema if not exists marts")
        for day in days:  # in order: each day's cooldowns see the days before it
            gives = read(conn, "select give_id, giver_person_id, recipient_person_id, topic_slug, given_at"
                                " from staging.stg_platform__kplus where given_day = ? order by give_id", [day])
            profile_topics = read_optional(conn, "marts.person_topics", "select person_id, topic_slug from marts.person_topics"
                                           " where day = ? order by all", [day], ["person_id", "topic_slug"])
            history = _history(conn, day, cfg["cooldown_days"])
            accepted, rejected = apply_kplus_rules(
                gives, profile_topics, max_per_giver_per_day=cfg["max_per_giver_per_day"],
                cooldown_days=cfg["cooldown_days"], history=history, ontology=ONTOLOGY,
            )
            replace_rows(conn, "marts.kplus_ledger", accepted.assign(given_day=day), day_column="given_day", days=[day])
            replace_rows(conn, "marts.kplus_rejected", rejected.assign(given_day=day), day_column="given_day", days=[day])
            accepted_total += len(accepted)
            rejected_total += len(rejected)
    yield MaterializeResult(asset_key=["marts", "kplus_ledger"], metadata={"accepted": accepted_total})
    yield MaterializeResult(asset_key=["marts", "kplus_rejected"], metadata={"rejected": rejected_total})


def _history(conn, day, cooldown_days) -> pd.DataFrame | None:
    """Gives accepted on the days a cooldown can reach back to."""
    columns = ["give_id", "giver_person_id", "recipient_person_id", "topic_slug", "given_at"]
    history = read_optional(conn, "marts.kplus_ledger", f"select {', '.join(columns)} from marts.kplus_ledger"
                            " where given_day between ? and ? order by give_id",
                            [day - timedelta(days=int(cooldown_days) + 1), day - timedelta(days=1)], columns)
    return history if len(history) else None


@asset(key=["marts", "topic_leaderboards"], deps=[SCORES, person_topics, AssetKey(["marts", "kplus_ledger"])],
       group_name="topics", **VERSIONED,
       description="Per topic per day: top influencers (gold sash), top +K recipients (blue), both (blue_and_gold).")
def topic_leaderboards(context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource) -> MaterializeResult:
    formula = config.formula()
    days = window_days(*context.partition_time_window)
    board_size = PRODUCT["leaderboards"]["board_size"]
    kplus_window = PRODUCT["kplus_rules"]["window_days"]
    with duckdb.get_connection() as conn:
        frames = []
        profiles = read_profiles(conn)
        for day in days:
            influence = read_optional(conn, "marts.person_topics", """
                select t.person_id, t.topic_slug,
                       s.score * t.evidence / max(t.evidence) over (partition by t.person_id) as topic_score
                from marts.person_topics as t
                join marts.scores as s on s.person_id = t.person_id and s.day = t.day and s.formula_version = ?
                where t.day = ? and t.evidence is not null
                order by all""", [formula.version, day], ["person_id", "topic_slug", "topic_score"])
            accepted = accepted_kplus(conn, [day], kplus_window)
            accepted = accepted[~accepted["recipient_person_id"].isin(minors_on(profiles, day))]
            board = build_topic_leaderboards(influence, accepted, day, board_size=board_size, kplus_window_days=kplus_window)
            frames.append(board[board["sash"] != "none"])
        result = pd.concat(frames, ignore_index=True).assign(formula_version=formula.version)
        result["topic_score"] = result["topic_score"].astype(float).round(6)
        write_versioned(conn, "marts.topic_leaderboards", result, days, formula)
    return MaterializeResult(metadata={"rows": len(result), "topics": int(result["topic_slug"].nunique())})


@asset(key=["marts", "perk_eligibility"], deps=[SCORES, person_topics, CAMPAIGNS, PROFILES],
       group_name="topics", **VERSIONED,
       description="Who each running perk campaign may offer to: person id and display name only.")
def perk_eligibility(context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource) -> MaterializeResult:
    formula = config.formula()
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        campaigns = read(conn, "select * from staging.stg_platform__campaigns order by campaign_id", [])
        persons = read(conn, "select person_id, display_name, birth_date, location, opted_out from staging.stg_platform__profiles"
                              " where birth_date is not null order by person_id", [])
        frames = []
        for day in days:
            day_scores = read(conn, "select person_id, score from marts.scores where day = ? and formula_version = ? order by person_id",
                               [day, formula.version])
            profile_topics = read_optional(conn, "marts.person_topics", "select person_id, topic_slug from marts.person_topics"
                                           " where day = ? order by all", [day], ["person_id", "topic_slug"])
            eligible = select_perk_eligible(campaigns, persons, day_scores, profile_topics, day)
            frames.append(eligible[["campaign_id", "person_id", "display_name", "rank"]].assign(day=day))
        result = pd.concat(frames, ignore_index=True).assign(formula_version=formula.version)
        write_versioned(conn, "marts.perk_eligibility", result, days, formula)
    return MaterializeResult(metadata={"rows": len(result), "campaigns": int(result["campaign_id"].nunique())})
