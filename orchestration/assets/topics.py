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
from ..domain.perks import running_on, wanted_topics
from ..domain.privacy import minors_on
from ..domain.score import day_numbers
from ..domain.topics import (
    WindowEvidence,
    apply_profile_edits,
    assign_topics,
    engagement_factor,
    matcher_fingerprint,
    text_topic_matches,
)
from ..partitions import daily_partitions, single_run, window_days
from ..progress import each_day
from ..warehouse import replace_rows
from .scoring import (
    SCORES,
    VERSIONED,
    FormulaConfig,
    accepted_kplus,
    read,
    read_optional,
    read_profiles,
    write_versioned,
)

PRODUCT = load_product()
WINDOW_DAYS = feature_knobs()["window_days"]
ONTOLOGY = load_default_ontology()
POSTS = AssetKey(["intermediate", "int_post_engagement"])
EVENTS = AssetKey(["intermediate", "int_engagement_events"])
PROFILES = AssetKey(["staging", "stg_platform__profiles"])
KPLUS_GIVES = AssetKey(["staging", "stg_platform__kplus"])
CAMPAIGNS = AssetKey(["staging", "stg_platform__campaigns"])
EDITS = AssetKey(["staging", "stg_platform__topic_edits"])
POST_TOPIC_MATCHES = "cache.post_topic_matches"  # a memo of person_topics, not a product table
TEXT_HASH = "sha256(coalesce({}.text, ''))"  # what a post's matches depend on, besides the matcher
POST_ID = "hash(p.post_key)"  # an integer orders and joins far faster than the key
NO_TOPICS = pd.DataFrame({"person_id": pd.Series(dtype="str"), "topic_slug": pd.Series(dtype="str")})
COMMON = dict(partitions_def=daily_partitions, backfill_policy=single_run, pool="duckdb", group_name="topics")


def _evidence_knobs() -> dict:
    cfg = PRODUCT["topics"]
    return {k: cfg[k] for k in ("hashtag_weight", "word_weight", "engagement_floor", "mention_weight", "rollup_decay")}


def window_matches(conn, since, until, hashtag_weight: float, word_weight: float) -> pd.DataFrame:
    """post_id, person_id, post_day, topic_slug, strength for the posts of [since, until] that
    match a topic, ordered. `post_id` is an integer unique per post_key; the rows are also left
    in the connection as temp table `window_topic_matches` (with post_key), for joins.

    A post's matches depend only on its text and the matcher, so they are kept in
    `cache.post_topic_matches` by text hash (sha256) under the matcher's fingerprint: a daily run matches
    only the texts it has never seen, not its whole 90-day window. Rows under any other
    fingerprint are dropped, so a change of keywords, weights or matching code re-matches.
    """
    matcher = matcher_fingerprint(ONTOLOGY, hashtag_weight=hashtag_weight, word_weight=word_weight)
    conn.execute(f"create schema if not exists {POST_TOPIC_MATCHES.split('.')[0]}")
    conn.execute(
        f"create table if not exists {POST_TOPIC_MATCHES}"
        " (matcher varchar, text_hash varchar, topic_slug varchar, strength double)"
    )
    conn.execute(f"delete from {POST_TOPIC_MATCHES} where matcher <> ?", [matcher])
    unseen = read(
        conn,
        f"""
        select distinct {TEXT_HASH.format("p")} as text_hash, coalesce(p.text, '') as text
        from intermediate.int_post_engagement as p
        where p.post_day between ? and ? and not exists (
            select 1 from {POST_TOPIC_MATCHES} as m where m.matcher = ? and m.text_hash = {TEXT_HASH.format("p")})
        order by text_hash""",
        [since, until, matcher],
    )
    found = text_topic_matches(unseen["text"], ONTOLOGY, hashtag_weight=hashtag_weight, word_weight=word_weight)
    hashes = unseen["text_hash"].to_numpy(dtype=object)
    hit = found["text_index"].to_numpy(dtype=np.int64)
    missed = np.setdiff1d(np.arange(len(unseen)), hit)
    rows = pd.DataFrame(
        {  # a text that matches nothing is kept too (no topic), so it is not matched again
            "matcher": matcher,
            "text_hash": np.concatenate([hashes[hit], hashes[missed]]),
            "topic_slug": pd.array(list(found["topic_slug"]) + [None] * len(missed), dtype="str"),
            "strength": np.concatenate([found["strength"].to_numpy(dtype=float), np.full(len(missed), np.nan)]),
        }
    )
    if len(rows):
        replace_matches(conn, rows)
    conn.execute(
        f"""
        create or replace temp table window_topic_matches as
        select p.post_key, {POST_ID} as post_id, p.person_id, p.post_day, m.topic_slug, m.strength
        from intermediate.int_post_engagement as p
        join {POST_TOPIC_MATCHES} as m on m.matcher = ? and m.text_hash = {TEXT_HASH.format("p")}
        where p.post_day between ? and ? and m.topic_slug is not null""",
        [matcher, since, until],
    )
    # if two keys ever share a hash, number them by key instead (slower, same result)
    if conn.execute("select count(distinct post_key) <> count(distinct post_id) from window_topic_matches").fetchall()[
        0
    ][0]:
        conn.execute(
            "create or replace temp table window_topic_matches as select * replace"
            " (cast(dense_rank() over (order by post_key) as ubigint) as post_id) from window_topic_matches"
        )
    return read(
        conn,
        "select post_id, person_id, post_day, topic_slug, strength from window_topic_matches"
        " order by post_id, topic_slug",
    )


def replace_matches(conn, rows: pd.DataFrame) -> None:
    conn.register("new_matches", rows)
    try:
        conn.execute(
            f"insert into {POST_TOPIC_MATCHES} by name select * from new_matches as n where not exists"
            f" (select 1 from {POST_TOPIC_MATCHES} as m where m.matcher = n.matcher and m.text_hash = n.text_hash)"
        )
    finally:
        conn.unregister("new_matches")


@asset(
    key=["marts", "person_topics"],
    deps=[POSTS, EVENTS, PROFILES, EDITS],
    **COMMON,
    description="Each person's topics and expertise, from what they post and the engagement it earns."
    " Keeps each post text's topic matches in cache.post_topic_matches, so a day matches only new texts.",
)
def person_topics(context: AssetExecutionContext, duckdb: DuckDBResource) -> MaterializeResult:
    days = window_days(*context.partition_time_window)
    window = WINDOW_DAYS
    cfg = PRODUCT["topics"]
    with duckdb.get_connection() as conn:
        since = days[0] - timedelta(days=window - 1)
        knobs = _evidence_knobs()
        # each text is matched once ever; a day only re-weighs its window's matches by what they earned so far
        matches = window_matches(conn, since, days[-1], knobs["hashtag_weight"], knobs["word_weight"])
        matched_posts = "(select distinct post_key, post_id from window_topic_matches)"
        reacted = read(
            conn,
            f"select w.post_id, e.event_day, count(*) as reactions from intermediate.int_engagement_events as e"
            f" join {matched_posts} as w using (post_key)"
            " where e.reaction_type <> 'mention' and e.event_day between ? and ? group by all",
            [since, days[-1]],
        )
        mentions = read(
            conn,
            f"select w.post_id, e.target_person_id as person_id, e.event_day"
            f" from intermediate.int_engagement_events as e join {matched_posts} as w using (post_key)"
            " where e.reaction_type = 'mention' and e.event_day between ? and ?",
            [since, days[-1]],
        )  # WindowEvidence orders them
        profiles = read_profiles(conn)
        edits = read(
            conn,
            "select person_id, editor_person_id, topic_slug, action, edited_day from staging.stg_platform__topic_edits"
            " where edited_day <= ? order by edited_at, edit_id",
            [days[-1]],
        )
        match_post, post_ids = pd.factorize(matches["post_id"].to_numpy())
        post_ids, match_day, n_posts = pd.Index(post_ids), day_numbers(matches["post_day"]), len(post_ids)
        reacted = reacted.assign(post=post_ids.get_indexer(reacted["post_id"]), day=day_numbers(reacted["event_day"]))
        reacted = reacted.sort_values("day", kind="stable")
        mentions = mentions.assign(post_key=post_ids.get_indexer(mentions["post_id"]))
        edit_day = day_numbers(edits["edited_day"])
        engine = WindowEvidence(
            matches.assign(post_key=match_post),
            match_day,
            mentions,
            day_numbers(mentions["event_day"]),
            ONTOLOGY,
            mention_weight=knobs["mention_weight"],
            rollup_decay=knobs["rollup_decay"],
        )
        strength = matches["strength"].to_numpy(dtype=float)
        rows = experts = 0
        for day in each_day(context, days):
            today = day_numbers([day])[0]
            through_today = int(np.searchsorted(reacted["day"].to_numpy(), today, side="right"))
            earned = np.bincount(
                reacted["post"].to_numpy()[:through_today],
                weights=reacted["reactions"].to_numpy(dtype=float)[:through_today],
                minlength=n_posts,
            )
            weight = strength * engagement_factor(earned[match_post], knobs["engagement_floor"])
            evidence = engine.evidence(today, window, weight)
            assigned = assign_topics(evidence, cfg["expert_top_pct"], cfg["min_evidence"])
            minors = minors_on(profiles, day)
            assigned = assigned[~assigned["person_id"].isin(minors)]  # minors are never ranked
            todays_edits = edits[edit_day <= today]
            todays_edits = todays_edits[~todays_edits["person_id"].isin(minors)]
            profile = apply_profile_edits(assigned, todays_edits)
            todays = assigned.merge(profile, on=["person_id", "topic_slug"], how="right").assign(day=day)
            todays["evidence"] = todays["evidence"].astype(float)  # assign_topics rounded it; an added topic has none
            replace_rows(
                conn, "marts.person_topics", todays, day_column="day", days=[day]
            )  # one day in memory at a time
            rows += len(todays)
            experts += int(todays["is_expert"].fillna(False).astype(bool).sum())
    return MaterializeResult(metadata={"rows": rows, "experts": experts})


@multi_asset(
    specs=[
        AssetSpec(
            ["marts", "kplus_ledger"],
            deps=[KPLUS_GIVES, person_topics],
            group_name="topics",
            description="+K gives accepted under the rules.",
        ),
        AssetSpec(
            ["marts", "kplus_rejected"],
            deps=[KPLUS_GIVES, person_topics],
            group_name="topics",
            description="Every refused +K give with its reason: nothing is dropped silently.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="duckdb",
)
def kplus(context: AssetExecutionContext, duckdb: DuckDBResource):
    cfg = PRODUCT["kplus_rules"]
    days = window_days(*context.partition_time_window)
    accepted_total = rejected_total = 0
    with duckdb.get_connection() as conn:
        conn.execute("create schema if not exists marts")
        every_give = read(
            conn,
            "select give_id, giver_person_id, recipient_person_id, topic_slug, given_at, given_day"
            " from staging.stg_platform__kplus where given_day between ? and ? order by give_id",
            [days[0], days[-1]],
        )
        give_day = day_numbers(every_give["given_day"])
        every_give = every_give.drop(columns="given_day")
        for day in each_day(context, days):  # in order: each day's cooldowns see the days before it
            gives = every_give[give_day == day_numbers([day])[0]].reset_index(drop=True)
            recipients = sorted(set(gives["recipient_person_id"]))  # only their profiles matter, not everyone's
            profile_topics = profile_topics_on(conn, day, "person_id", recipients)
            history = _history(conn, day, cfg["cooldown_days"])
            accepted, rejected = apply_kplus_rules(
                gives,
                profile_topics,
                max_per_giver_per_day=cfg["max_per_giver_per_day"],
                cooldown_days=cfg["cooldown_days"],
                history=history,
                ontology=ONTOLOGY,
            )
            replace_rows(conn, "marts.kplus_ledger", accepted.assign(given_day=day), day_column="given_day", days=[day])
            replace_rows(
                conn, "marts.kplus_rejected", rejected.assign(given_day=day), day_column="given_day", days=[day]
            )
            accepted_total += len(accepted)
            rejected_total += len(rejected)
    yield MaterializeResult(asset_key=["marts", "kplus_ledger"], metadata={"rows": accepted_total})
    yield MaterializeResult(asset_key=["marts", "kplus_rejected"], metadata={"rows": rejected_total})


def profile_topics_on(conn, day, column: str, among: list[str]) -> pd.DataFrame:
    """person_id, topic_slug on the profiles of `day` whose `column` is one of `among`: a day
    has millions of profile topics and the caller needs only a few people's or topics'."""
    if not among:
        return NO_TOPICS
    return read_optional(
        conn,
        "marts.person_topics",
        "select person_id, topic_slug from marts.person_topics"
        f" where day = ? and {column} in (select unnest(?::varchar[])) order by all",
        [day, among],
        ["person_id", "topic_slug"],
    )


def _history(conn, day, cooldown_days) -> pd.DataFrame | None:
    """Gives accepted on the days a cooldown can reach back to."""
    columns = ["give_id", "giver_person_id", "recipient_person_id", "topic_slug", "given_at"]
    history = read_optional(
        conn,
        "marts.kplus_ledger",
        f"select {', '.join(columns)} from marts.kplus_ledger where given_day between ? and ? order by give_id",
        [day - timedelta(days=int(cooldown_days) + 1), day - timedelta(days=1)],
        columns,
    )
    return history if len(history) else None


@asset(
    key=["marts", "topic_leaderboards"],
    deps=[SCORES, person_topics, AssetKey(["marts", "kplus_ledger"])],
    group_name="topics",
    **VERSIONED,
    description="Per topic per day: top influencers (gold sash), top +K recipients (blue), both (blue_and_gold).",
)
def topic_leaderboards(
    context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource
) -> MaterializeResult:
    formula = config.formula()
    days = window_days(*context.partition_time_window)
    board_size = PRODUCT["leaderboards"]["board_size"]
    kplus_window = PRODUCT["kplus_rules"]["window_days"]
    with duckdb.get_connection() as conn:
        frames = []
        profiles = read_profiles(conn)
        every_accepted = accepted_kplus(conn, days, kplus_window)  # each day's board keeps its own window
        for day in each_day(context, days):
            influence = read_optional(
                conn,
                "marts.person_topics",
                """
                select t.person_id, t.topic_slug,
                       s.score * t.evidence / max(t.evidence) over (partition by t.person_id) as topic_score
                from marts.person_topics as t
                join marts.scores as s on s.person_id = t.person_id and s.day = t.day and s.formula_version = ?
                where t.day = ? and t.evidence is not null
                order by all""",
                [formula.version, day],
                ["person_id", "topic_slug", "topic_score"],
            )
            accepted = every_accepted[~every_accepted["recipient_person_id"].isin(minors_on(profiles, day))]
            board = build_topic_leaderboards(
                influence, accepted, day, board_size=board_size, kplus_window_days=kplus_window
            )
            frames.append(board[board["sash"] != "none"])
        result = pd.concat(frames, ignore_index=True).assign(formula_version=formula.version)
        result["topic_score"] = result["topic_score"].astype(float).round(6)
        write_versioned(conn, "marts.topic_leaderboards", result, days, formula)
    return MaterializeResult(metadata={"rows": len(result), "topics": int(result["topic_slug"].nunique())})


@asset(
    key=["marts", "perk_eligibility"],
    deps=[SCORES, person_topics, CAMPAIGNS, PROFILES],
    group_name="topics",
    **VERSIONED,
    description="Who each running perk campaign may offer to: person id and display name only.",
)
def perk_eligibility(
    context: AssetExecutionContext, config: FormulaConfig, duckdb: DuckDBResource
) -> MaterializeResult:
    formula = config.formula()
    days = window_days(*context.partition_time_window)
    with duckdb.get_connection() as conn:
        campaigns = read(conn, "select * from staging.stg_platform__campaigns order by campaign_id", [])
        persons = read(
            conn,
            "select person_id, display_name, birth_date, location, opted_out from staging.stg_platform__profiles"
            " where birth_date is not null order by person_id",
            [],
        )
        frames = []
        for day in each_day(context, days):
            running = running_on(campaigns, day)
            if running.empty:
                continue
            day_scores = read(
                conn,
                "select person_id, score from marts.scores where day = ? and formula_version = ? order by person_id",
                [day, formula.version],
            )
            wanted = wanted_topics(running["topics"])  # only the topics a running campaign asks for
            profile_topics = profile_topics_on(conn, day, "topic_slug", wanted)
            eligible = select_perk_eligible(running, persons, day_scores, profile_topics, day)
            frames.append(eligible[["campaign_id", "person_id", "display_name", "rank"]].assign(day=day))
        columns = ["campaign_id", "person_id", "display_name", "rank", "day"]
        result = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)).assign(
            formula_version=formula.version
        )
        write_versioned(conn, "marts.perk_eligibility", result, days, formula)
    return MaterializeResult(metadata={"rows": len(result), "campaigns": int(result["campaign_id"].nunique())})
