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
    rows, experts = 0, 0
    with duckdb.get_connection() as conn:
        run = TopicEvidenceRun(context, conn, partition_days(context))
        for day, todays in run.each_day():
            rows += run.warehouse.write_days("marts.person_topics", todays, [day])  # one day in memory at a time
            experts += int(todays["is_expert"].fillna(False).astype(bool).sum())
    return MaterializeResult(metadata={"rows": rows, "experts": experts, "evidence": run.mode})


class TopicEvidenceRun:
    """person_topics' days: carried from the day before's state (TopicStateStore) in a daily run
    that has it, else read from the whole window, then kept as the state of the run's last days.
    `mode` says which ("carried" or "whole window")."""

    def __init__(self, context: AssetExecutionContext, conn, days):
        self.rules, self.window = load_product()["topics"], feature_knobs()["window_days"]
        self.context, self.days, self.ontology, self.mode = context, days, load_default_ontology(), "whole window"
        weights = {k: self.rules[k] for k in ("hashtag_weight", "word_weight")}
        matcher = matcher_fingerprint(self.ontology, **weights)
        self.match = lambda texts: text_topic_matches(texts, self.ontology, **weights)
        self.warehouse = Warehouse(conn)
        self.cache = TopicMatchCache(conn, matcher)  # each text is matched once, ever
        self.store = TopicStateStore(conn, evidence_fingerprint(self.ontology, self.rules, self.window, matcher))
        self.profiles, self.edits = self.warehouse.profiles(), self.warehouse.topic_edits(days[-1])

    def each_day(self):
        """(day, that day's topics), a day at a time."""
        day = self.days[0]
        if len(self.days) == 1 and day - timedelta(days=1) in self.store.days():
            try:
                evidence = self._carried(day)
            except StaleTopicState as stale:
                self.context.log.warning(f"{stale}: reading the whole window instead")
                evidence = None
            if evidence is not None:
                self.mode = "carried"
                yield day, published_topics(evidence, day, self.rules, self.profiles, self.edits)
                return
        yield from self._whole_window()

    def _carried(self, day):
        """`day`'s evidence carried from the day before's state, which is then kept as `day`'s;
        None when the day's posts cannot be told apart from the state's (read the window)."""
        seen_through, store = self.store.seen_through(), self.store
        new = self.cache.window_matches(day, day, self.match)
        if self.cache.collided or store.collides(day):
            return None
        reacted, mentions = store.today(day, self.window)
        before_day = day - timedelta(days=1)
        before, after = TopicState(*store.touched(before_day)).next_day(day, self.window, new, reacted, mentions)
        changed, evidence = carried_evidence(store.keys(before_day), before, after, self.ontology, self.rules)
        store.carry(day, after.rows, after.pairs, changed, seen_through)
        return evidence

    def _whole_window(self):
        days, since = self.days, self.days[0] - timedelta(days=self.window - 1)
        seen_through = self.store.seen_through()  # before reading: a state may count less, never more
        matches = self.cache.window_matches(since, days[-1], self.match)
        reacted = self.warehouse.reactions_per_post_day(since, days[-1], first=days[0])
        mentions = self.warehouse.mentions_of_matched_posts(since, days[-1])
        topic_days = TopicDays(
            matches, reacted, mentions, self.profiles, self.edits, self.ontology, self.rules, self.window
        )
        for day in each_day(self.context, days):
            yield day, topic_days.on(day)
        kept = self.store.days()
        if not self.cache.collided and (not kept or days[-1] >= kept[-1] - timedelta(days=1)):
            # the last two days: a re-run of the last day then carries from the one before
            last = days[-TopicStateStore.KEPT_DAYS :]
            self.store.save({day: topic_days.state(day) for day in last}, seen_through)


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
