"""Topics, +K, topic leaderboards and perks: wiring over domain.topics, kplus, leaderboards, perks."""

from datetime import timedelta

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, asset, multi_asset
from dagster_duckdb import DuckDBResource

from domain.formula import load_product
from domain.kplus import GIVE_COLUMNS, kplus_ledger
from domain.leaderboards import sashed_boards_on
from domain.ontology import load_default_ontology
from domain.perks import perk_eligibility as eligible_for_perks
from domain.perks import running_on, wanted_topics
from domain.topics import (
    StaleTopicState,
    TopicDays,
    TopicState,
    carried_evidence,
    evidence_fingerprint,
    matcher_fingerprint,
    published_topics,
    text_topic_matches,
)

from ..dbt_project import dbt_key, feature_knobs
from ..formulas import FormulaConfig, versioned
from ..keys import (
    KPLUS_LEDGER,
    KPLUS_REJECTED,
    PERK_ELIGIBILITY,
    PERSON_TOPICS,
    SCORES,
    TOPIC_LEADERBOARDS,
    TOPICS_GROUP,
)
from ..partitions import PARTITIONED, partition_days
from ..progress import day_chunks, each_day
from ..warehouse import TopicMatchCache, TopicStateStore, Warehouse

PERK_COLUMNS = ["campaign_id", "person_id", "display_name", "rank"]
KPLUS_CHUNK_DAYS = 30  # days of gives judged in one walk


@asset(
    key=PERSON_TOPICS,
    deps=[dbt_key(m) for m in ("int_post_engagement", "int_engagement_events", "stg_platform__profiles")]
    + [dbt_key("stg_platform__topic_edits")],
    group_name=TOPICS_GROUP,
    description="Each person's topics and expertise, from what they post and the engagement it earns."
    " Keeps each post text's topic matches in cache.post_topic_matches, so a day matches only new texts.",
    **PARTITIONED,
)
def person_topics(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    rules, window, ontology = load_product()["topics"], feature_knobs()["window_days"], load_default_ontology()
    days, rows, experts = partition_days(context), 0, 0
    weights = {k: rules[k] for k in ("hashtag_weight", "word_weight")}
    matcher = matcher_fingerprint(ontology, **weights)
    match = lambda texts: text_topic_matches(texts, ontology, **weights)  # noqa: E731
    with duckdb.get_connection() as conn:
        warehouse, since = Warehouse(conn), days[0] - timedelta(days=window - 1)
        cache = TopicMatchCache(conn, matcher)  # each text is matched once, ever
        store = TopicStateStore(conn, evidence_fingerprint(ontology, rules, window, matcher))
        profiles, edits = warehouse.profiles(), warehouse.topic_edits(days[-1])
        carried = None
        if len(days) == 1 and days[0] - timedelta(days=1) in store.days():
            try:
                carried = carried_day(store, cache, days[0], window, match, ontology, rules)
            except StaleTopicState as stale:
                context.log.warning(f"{stale}: reading the whole window instead")
        if carried is not None:
            todays = published_topics(carried, days[0], rules, profiles, edits)
            rows += warehouse.write_days("marts.person_topics", todays, days)
            experts += int(todays["is_expert"].fillna(False).astype(bool).sum())
            return MaterializeResult(metadata={"rows": rows, "experts": experts, "evidence": "carried"})
        seen_through = store.seen_through()  # before reading: a state may count less, never more
        matches = cache.window_matches(since, days[-1], match)
        reacted = warehouse.reactions_per_post_day(since, days[-1], first=days[0])
        mentions = warehouse.mentions_of_matched_posts(since, days[-1])
        topic_days = TopicDays(matches, reacted, mentions, profiles, edits, ontology, rules, window)
        for day in each_day(context, days):
            todays = topic_days.on(day)
            rows += warehouse.write_days("marts.person_topics", todays, [day])  # one day in memory at a time
            experts += int(todays["is_expert"].fillna(False).astype(bool).sum())
        kept = store.days()
        if not cache.collided and (not kept or days[-1] >= kept[-1] - timedelta(days=1)):
            # the last two days: a re-run of the last day then carries from the one before
            store.save({day: topic_days.state(day) for day in days[-TopicStateStore.KEPT_DAYS :]}, seen_through)
    return MaterializeResult(metadata={"rows": rows, "experts": experts, "evidence": "whole window"})


def carried_day(store: TopicStateStore, cache: TopicMatchCache, day, window: int, match, ontology, rules):
    """`day`'s evidence carried from the day before's state (TopicState), which is then kept as
    `day`'s; None when the day's posts cannot be told apart from the state's (read the window)."""
    seen_through = store.seen_through()
    new = cache.window_matches(day, day, match)
    if cache.collided or store.collides(day):
        return None
    reacted, mentions = store.today(day, window)
    before_day = day - timedelta(days=1)
    touched = TopicState(*store.touched(before_day))
    before, after = touched.next_day(day, window, new, reacted, mentions)
    changed, evidence = carried_evidence(store.keys(before_day), before, after, ontology, rules)
    store.carry(day, after.rows, after.pairs, changed, seen_through)
    return evidence


@multi_asset(
    specs=[
        AssetSpec(
            KPLUS_LEDGER,
            deps=[dbt_key("stg_platform__kplus"), PERSON_TOPICS],
            group_name=TOPICS_GROUP,
            description="+K gives accepted under the rules.",
        ),
        AssetSpec(
            KPLUS_REJECTED,
            deps=[dbt_key("stg_platform__kplus"), PERSON_TOPICS],
            group_name=TOPICS_GROUP,
            description="Every refused +K give with its reason: nothing is dropped silently.",
        ),
    ],
    **PARTITIONED,
)
def kplus(context: AssetExecutionContext, duckdb: DuckDBResource):
    rules, days, accepted_total, rejected_total = load_product()["kplus_rules"], partition_days(context), 0, 0
    cooldown, per_day = rules["cooldown_days"], rules["max_per_giver_per_day"]
    with duckdb.get_connection() as conn:
        warehouse = Warehouse(conn)
        # a run of days in one walk, in order: each give's cooldown sees the gives before it, the
        # first day's the ledger's (judged as day by day, without re-reading the history each day)
        for chunk in day_chunks(context, days, KPLUS_CHUNK_DAYS):
            accepted, rejected = kplus_ledger(
                warehouse.kplus_gives_judged(chunk),
                None,
                max_per_giver_per_day=per_day,
                cooldown_days=cooldown,
                history=warehouse.kplus_history(chunk[0], cooldown),
                ontology=load_default_ontology(),
            )
            accepted_total += warehouse.write_days("marts.kplus_ledger", accepted, chunk, "given_day")
            rejected_total += warehouse.write_days(
                "marts.kplus_rejected", rejected[[*GIVE_COLUMNS, "reason", "given_day"]], chunk, "given_day"
            )
    yield MaterializeResult(asset_key=KPLUS_LEDGER, metadata={"rows": accepted_total})
    yield MaterializeResult(asset_key=KPLUS_REJECTED, metadata={"rows": rejected_total})


@asset(
    key=TOPIC_LEADERBOARDS,
    deps=[SCORES, PERSON_TOPICS, KPLUS_LEDGER],
    description="Per topic per day: top influencers (gold sash), top +K recipients (blue), both (blue_and_gold).",
    **versioned(group_name=TOPICS_GROUP, **PARTITIONED),
)
def topic_leaderboards(
    context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource
) -> MaterializeResult:
    formula, days, product = config.formula(), partition_days(context), load_product()
    sizes = {
        "board_size": product["leaderboards"]["board_size"],
        "kplus_window_days": product["kplus_rules"]["window_days"],
    }
    with duckdb.get_connection() as conn:
        warehouse = Warehouse(conn)
        profiles = warehouse.profiles()
        accepted = warehouse.accepted_kplus(days, sizes["kplus_window_days"])  # each day's board keeps its own window
        boards = [
            sashed_boards_on(warehouse.topic_influence(formula.version, day), accepted, profiles, day, **sizes)
            for day in each_day(context, days)
        ]
        result = pd.concat(boards, ignore_index=True).assign(formula_version=formula.version)
        result["topic_score"] = result["topic_score"].astype(float).round(6)
        warehouse.write_versioned("marts.topic_leaderboards", result, days, formula.version)
    return MaterializeResult(metadata={"rows": len(result), "topics": int(result["topic_slug"].nunique())})


@asset(
    key=PERK_ELIGIBILITY,
    deps=[SCORES, PERSON_TOPICS, dbt_key("stg_platform__campaigns"), dbt_key("stg_platform__profiles")],
    description="Who each running perk campaign may offer to: person id and display name only.",
    **versioned(group_name=TOPICS_GROUP, **PARTITIONED),
)
def perk_eligibility(
    context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource
) -> MaterializeResult:
    formula, days, frames = config.formula(), partition_days(context), []
    with duckdb.get_connection() as conn:
        warehouse = Warehouse(conn)
        campaigns, persons = warehouse.campaigns(), warehouse.perk_candidates()
        for day in each_day(context, days):
            if (running := running_on(campaigns, day)).empty:
                continue
            # only the topics a running campaign asks for
            topics = warehouse.profile_topics_on(day, "topic_slug", wanted_topics(running["topics"]))
            eligible = eligible_for_perks(running, persons, warehouse.day_scores(formula.version, day), topics, day)
            frames.append(eligible[PERK_COLUMNS].assign(day=day))
        result = pd.concat(frames or [pd.DataFrame(columns=[*PERK_COLUMNS, "day"])], ignore_index=True)
        warehouse.write_versioned(
            "marts.perk_eligibility", result.assign(formula_version=formula.version), days, formula.version
        )
    return MaterializeResult(metadata={"rows": len(result), "campaigns": int(result["campaign_id"].nunique())})
