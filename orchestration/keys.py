"""Keys and groups of the assets Python writes, declared once: asset modules refer to each other
through these, never by importing one another. dbt models' keys come from the manifest
(`dbt_project.dbt_key`)."""

from dagster import AssetKey

RAW_GROUP = "raw"
PRIVACY_GROUP = "privacy"
SCORES_GROUP = "scores"
TOPICS_GROUP = "topics"
REVIEW_GROUP = "formula_review"
SERVING_GROUP = "serving"


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def mart_key(table: str) -> AssetKey:
    return AssetKey(["marts", table])


UNMEASURED = AssetKey(["privacy", "unmeasured_persons"])
PRIVACY_AUDIT = AssetKey(["privacy", "audit"])
SCORES = mart_key("scores")
INFLUENCE_GRAPH = mart_key("influence_graph")
SCORE_CHANGES = mart_key("score_changes")
LEADERBOARD = mart_key("leaderboard")
PERSON_TOPICS = mart_key("person_topics")
KPLUS_LEDGER = mart_key("kplus_ledger")
KPLUS_REJECTED = mart_key("kplus_rejected")
TOPIC_LEADERBOARDS = mart_key("topic_leaderboards")
PERK_ELIGIBILITY = mart_key("perk_eligibility")
SERVING_SNAPSHOT = AssetKey(["serving", "snapshot"])
# the daily run's Python-written marts: the privacy audit runs after all of them
DAILY_MARTS = [
    SCORES,
    INFLUENCE_GRAPH,
    SCORE_CHANGES,
    LEADERBOARD,
    PERSON_TOPICS,
    KPLUS_LEDGER,
    KPLUS_REJECTED,
    TOPIC_LEADERBOARDS,
    PERK_ELIGIBILITY,
]
