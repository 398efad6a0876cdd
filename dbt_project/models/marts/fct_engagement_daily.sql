{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('day') }}") }}
-- person x network x day: what they posted and the reactions they received, for the persons we
-- measure (those with a tracked account); everyone else only appears as a reactor.
with identity as (
    select account_key, person_id from {{ ref('int_identity') }}
),
measured as (
    select distinct i.person_id, s.network
    from {{ ref('int_network_accounts') }} as s
    join identity as i using (account_key)
),
snapshots as (
    select i.person_id, s.network, s.snapshot_day as day, sum(s.followers_count) as followers
    from {{ ref('int_network_accounts') }} as s
    join identity as i using (account_key)
    where s.snapshot_day between {{ min_date() }} and {{ max_date() }}
    group by all
),
posts as (
    select i.person_id, p.network, p.post_day as day, count(*) as posts_made
    from {{ ref('int_network_posts') }} as p
    join identity as i using (account_key)
    where p.partition_day between {{ min_date() }} and {{ max_date() }}  -- = post_day: posts land on their day
    group by all
),
events as (
    select * from {{ ref('int_engagement_events') }}
    where event_day between {{ min_date() }} and {{ max_date() }}
),
handed_out as (
    select reactor_person_id, event_day, count(*) as reactions_given
    from events
    group by all
),
received as (
    select
        e.target_person_id as person_id,
        e.network,
        e.event_day as day,
        count(*) filter (where e.reaction_type = 'like') as likes,
        count(*) filter (where e.reaction_type = 'reply') as replies,
        count(*) filter (where e.reaction_type = 'reshare') as reshares,
        count(*) filter (where e.reaction_type = 'quote') as quotes,
        count(*) filter (where e.reaction_type = 'mention') as mentions,
        count(*) as reactions_received,
        count(distinct e.reactor_person_id) as unique_reactors,
        round(sum({{ selectivity_weight('h.reactions_given') }}), 9) as selectivity_weighted_reactions
    from events as e
    join handed_out as h using (reactor_person_id, event_day)
    group by all
),
observed_counts as (
    -- back far enough for each post's earlier observations (a post is observed while it is in the
    -- landing's lookback, which is shorter than dedupe_lookback_days)
    select * from {{ ref('int_network_counts') }}
    where observed_day between {{ min_date() }} - {{ var('dedupe_lookback_days') }} and {{ max_date() }}
),
count_increases as (
    -- what a day adds to a post's count: its total above the highest one observed before, so a
    -- count that drops (an unlike) adds nothing until it passes its old high, and re-observing adds 0
    select
        account_key,
        network,
        reaction_type,
        observed_day,
        greatest(
            total - coalesce(
                max(total) over (
                    partition by post_key, reaction_type order by observed_day
                    rows between unbounded preceding and 1 preceding
                ),
                0
            ),
            0
        ) as added
    from observed_counts
),
counted as (
    select
        i.person_id,
        c.network,
        c.observed_day as day,
        sum(c.added) filter (where c.reaction_type in ('like', 'reshare')) as anonymous_reactions,
        sum(c.added) filter (where c.reaction_type = 'view') as views
    from count_increases as c
    join identity as i using (account_key)
    where c.observed_day between {{ min_date() }} and {{ max_date() }} and c.added > 0
    group by all
),
spine as (
    select days.* from (
        select person_id, network, day from snapshots
        union
        select person_id, network, day from posts
        union
        select person_id, network, day from received
        union
        select person_id, network, day from counted
    ) as days
    semi join measured using (person_id, network)
)
select
    spine.person_id,
    spine.network,
    spine.day,
    coalesce(posts.posts_made, 0) as posts_made,
    coalesce(received.likes, 0) as likes,
    coalesce(received.replies, 0) as replies,
    coalesce(received.reshares, 0) as reshares,
    coalesce(received.quotes, 0) as quotes,
    coalesce(received.mentions, 0) as mentions,
    coalesce(received.reactions_received, 0) as reactions_received,
    coalesce(received.unique_reactors, 0) as unique_reactors,
    coalesce(received.selectivity_weighted_reactions, 0.0) as selectivity_weighted_reactions,
    cast(coalesce(counted.anonymous_reactions, 0) as bigint) as anonymous_reactions,
    cast(coalesce(counted.views, 0) as bigint) as views,
    snapshots.followers
from spine
left join posts using (person_id, network, day)
left join received using (person_id, network, day)
left join counted using (person_id, network, day)
left join snapshots using (person_id, network, day)
