-- The serving snapshot: everything the site and the API show, for one as-of day and formula
-- version. Built by orchestration/serving.py, published by web/snapshot.py, read only by web/.
-- Only people who may be shown are in it: no minor, opted-out person or non-consenting private
-- account appears in any table, on either side of any pair.

create table meta (
    version varchar not null,          -- content hash: the same inputs publish the same version
    as_of date not null,               -- the day the site shows
    formula_version varchar not null,  -- every number comes from this version
    history_days integer not null,     -- score_history covers (as_of - history_days, as_of]
    published_at timestamptz not null
);

create table people (
    person_id varchar primary key,     -- 'p000123' (registered) or '<network>:<account id>'
    display_name varchar not null,
    is_registered boolean not null,
    score double not null,             -- = marts.scores.score on as_of
    previous_score double,             -- = marts.score_changes.previous_score (null: new today)
    delta double,                      -- = marts.score_changes.delta
    rank bigint not null,              -- among everyone shown, by score desc then person_id
    search_text varchar not null       -- lower-case display name and handles, for search
);

create table handles (
    person_id varchar not null,
    network varchar not null,
    handle varchar not null
);

create table score_history (
    person_id varchar not null,
    day date not null,
    score double not null              -- = marts.scores.score
);

-- Each (network, subscore) of the as-of day, in strength units and in score points:
-- points = value / strength * (score - +K points), so a person's points plus their score_kplus
-- points add up to their score and a network's points are its contribution
-- (= marts.scores.<network>_contribution).
create table subscores (
    person_id varchar not null,
    network varchar not null,
    subscore varchar not null,         -- reach | amplification | network_impact
    value double not null,
    points double not null
);

-- Why the score changed since the day before, in score points (top moves first). The subscores'
-- moves add up to the delta; a discount's move (network 'all', subscore ring_discount |
-- indiscriminate_reactors | kplus_clique) is counterfactual: -(points it took today - the day before).
create table score_reasons (
    person_id varchar not null,
    rank integer not null,
    network varchar not null,          -- a network, or 'all' for a discount
    subscore varchar not null,
    points double not null             -- signed change of that (network, subscore)'s points
);

-- The points each discount took from the as-of score (formula v2 on; none under v1): the score
-- the person sees is after them, and the subscores' points already add up to it.
create table score_kplus (
    person_id varchar not null,        -- only people +K added points to (a formula with +K on)
    points double not null             -- points accepted +K added to the score (= marts.scores.kplus_points)
);

create table score_discounts (
    person_id varchar not null,
    kind varchar not null,             -- ring | indiscriminate | kplus_clique
    points double not null             -- > 0: points the score would have without the discount
);

create table person_topics (
    person_id varchar not null,
    topic_slug varchar not null,
    evidence double,
    is_expert boolean,
    person_rank bigint,                -- the person's own ordering of their topics (1 = top)
    kplus_90d bigint not null          -- accepted +K received on the topic in the 90 days to as_of
);

create table influence (
    person_id varchar not null,
    direction varchar not null,        -- influences | influenced_by
    rank bigint not null,
    other_person_id varchar not null,  -- always someone in people
    flow double not null
);

create table topics (
    slug varchar primary key,
    name varchar not null
);

create table topic_edges (
    parent_slug varchar not null,
    child_slug varchar not null
);

create table topic_leaderboards (
    topic_slug varchar not null,
    person_id varchar not null,
    topic_score double,
    kplus_count bigint,
    rank_influence bigint,
    rank_kplus bigint,
    sash varchar                       -- gold | blue | blue_and_gold | null
);

create table topic_kplus (
    topic_slug varchar not null,
    person_id varchar not null,
    gives_90d bigint not null,
    rank bigint not null
);

create table leaderboard (
    rank bigint not null,              -- = marts.leaderboard.rank on as_of
    person_id varchar not null,
    score double not null
);

-- Brands see requirements and counts, never who.
create table perks (
    campaign_id varchar primary key,
    brand varchar not null,
    title varchar not null,
    topics varchar[] not null,
    min_score double,
    locations varchar[] not null,
    starts_on date,
    ends_on date,
    capacity bigint,
    running boolean not null,          -- starts_on <= as_of <= ends_on
    qualifying bigint not null         -- people eligible on as_of (marts.perk_eligibility)
);
