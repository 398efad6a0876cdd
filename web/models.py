"""The API's answers as pydantic models, so the OpenAPI schema documents every field."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Stamped(BaseModel):
    """What every answer carries: which snapshot, day and formula its numbers come from."""

    as_of: date = Field(description="The day the numbers are for (UTC).")
    formula_version: str = Field(description="The score formula version every number comes from.")
    snapshot_version: str = Field(description="The serving snapshot the answer was read from.")


class PersonRef(BaseModel):
    """Who a row names: always someone shown on the site (never a hidden person)."""

    person_id: str = Field(description="'p000123' for a registered person, '<network>:<account id>' otherwise.")
    display_name: str
    url: str = Field(description="The person's API resource.")


class Handle(BaseModel):
    network: str
    handle: str


class Subscores(BaseModel):
    """Score points per subscore, summed over networks: with +K's points they add up to the score."""

    reach: float = Field(description="Points from the engaged audience.")
    amplification: float = Field(description="Points from how strongly the audience engages.")
    network_impact: float = Field(description="Points from how influential the engaging people are.")


class NetworkPoints(BaseModel):
    network: str
    points: float = Field(description="The network's contribution to the score, in points.")
    reach: float = Field(description="Points from reach on this network.")
    amplification: float = Field(description="Points from amplification on this network.")
    network_impact: float = Field(description="Points from network impact on this network.")


class Discount(BaseModel):
    """Points a discount on engagement that buys nothing took from the score (formula v2)."""

    kind: str = Field(description="ring | indiscriminate | kplus_clique")
    name: str = Field(description="As the profile names it, e.g. 'engagement-ring discount'.")
    points: float = Field(description="Points the score would have without this discount (> 0).")


class Reason(BaseModel):
    """One move since the day before, in score points. The subscores' moves add up to the delta; a
    discount's move (network 'all') is counterfactual: without the change in what the discount
    took, the score would have moved this much more."""

    rank: int = Field(description="1 = the biggest move.")
    network: str = Field(description="The network, or 'all' for a discount.")
    subscore: str = Field(
        description="reach | amplification | network_impact, or a discount: "
        "ring_discount | indiscriminate_reactors | kplus_clique"
    )
    points: float = Field(
        description="Signed change of this (network, subscore)'s points since the day before; for a "
        "discount, -(points it took today - the day before)."
    )
    text: str = Field(description="The reason as the profile shows it, e.g. '+1.20 points from Bluesky reach'.")


class Person(Stamped):
    person_id: str
    display_name: str
    is_registered: bool = Field(description="False: a public account the operator tracks, not a registered person.")
    handles: list[Handle]
    score: float = Field(description="The 1-100 score on as_of.")
    previous_score: float | None = Field(description="The score the day before; null when new today.")
    delta: float | None = Field(description="score - previous_score; null when new today.")
    rank: int = Field(description="Rank among everyone shown, by score then person_id.")
    subscores: Subscores
    kplus_points: float = Field(
        description="Points accepted +K added to the score (0 without +K): subscores plus these add up to the score."
    )
    discounts: list[Discount] = Field(
        description="Points each discount took from the score (formula v2; empty without discounts)."
    )
    networks: list[NetworkPoints] = Field(description="Each network's contribution, biggest first.")
    reasons: list[Reason] = Field(description="Why the score changed since the day before, biggest move first.")


class HistoryPoint(BaseModel):
    day: date
    score: float


class History(Stamped):
    person_id: str
    history_days: int = Field(description="The history covers (as_of - history_days, as_of].")
    history: list[HistoryPoint] = Field(description="Oldest first; days without a score are absent.")


class PersonTopic(BaseModel):
    topic_slug: str
    name: str | None = Field(description="The topic's name; null if the ontology no longer has it.")
    evidence: float | None
    is_expert: bool | None = Field(description="Among the topic's top 10% of people.")
    person_rank: int | None = Field(description="The person's own ordering of their topics (1 = top).")
    kplus_90d: int = Field(description="Accepted +K received on the topic in the 90 days to as_of.")


class PersonTopics(Stamped):
    person_id: str
    topics: list[PersonTopic]


class InfluenceEntry(PersonRef):
    rank: int = Field(description="1 = the strongest influence.")
    flow: float = Field(description="Influence flowing along this pair (network influence units).")


class Influencers(Stamped):
    person_id: str
    influencers: list[InfluenceEntry] = Field(description="Who influences the person, strongest first.")


class Influencees(Stamped):
    person_id: str
    influencees: list[InfluenceEntry] = Field(description="Whom the person influences, strongest first.")


class LeaderboardEntry(PersonRef):
    rank: int
    score: float


class Leaderboard(Stamped):
    total: int = Field(description="People on the whole leaderboard.")
    offset: int
    limit: int
    leaderboard: list[LeaderboardEntry]


class TopicRef(BaseModel):
    slug: str
    name: str


class TopicLeaderboardEntry(PersonRef):
    rank_influence: int | None = Field(description="Rank by topic score (null: no score on the topic).")
    rank_kplus: int | None = Field(description="Rank by +K received (null: no +K on the topic).")
    topic_score: float | None
    kplus_count: int | None
    sash: str | None = Field(description="gold | blue | blue_and_gold | null")


class TopicLeaderboard(Stamped):
    topic: TopicRef
    parents: list[TopicRef]
    children: list[TopicRef]
    leaderboard: list[TopicLeaderboardEntry]


class SearchResult(PersonRef):
    score: float
    rank: int


class Search(Stamped):
    q: str
    results: list[SearchResult]


class Problem(BaseModel):
    detail: str
