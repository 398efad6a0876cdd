{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['as_of_day']) }}
-- person x network x as-of day: the rolling window, weighted to recent days by a half-life decay.
{% set window = var('window_days') %}
with as_of as (
    select distinct day as as_of_day
    from {{ ref('fct_engagement_daily') }}
    where day between {{ min_date() }} and {{ max_date() }}
),
daily as (
    select * from {{ ref('fct_engagement_daily') }}
    where day between {{ min_date() }} - {{ window - 1 }} and {{ max_date() }}
),
windowed as (
    select
        a.as_of_day,
        d.person_id,
        d.network,
        round(sum({{ decay_weight('a.as_of_day - d.day') }} * d.reactions_received), 9) as decayed_reactions,
        round(sum({{ decay_weight('a.as_of_day - d.day') }} * d.posts_made), 9) as decayed_posts,
        round(sum({{ decay_weight('a.as_of_day - d.day') }} * d.selectivity_weighted_reactions), 9) as selectivity_weighted_engagement,
        sum(d.posts_made) as posts_90d,
        arg_max(d.followers, d.day) filter (where d.followers is not null) as audience_size,
        max(d.day) filter (where d.posts_made > 0 or d.reactions_received > 0) as last_active_day
    from as_of as a
    join daily as d on d.day between a.as_of_day - {{ window - 1 }} and a.as_of_day
    group by all
),
events as (
    select * from {{ ref('int_engagement_events') }}
    where event_day between {{ min_date() }} - {{ window - 1 }} and {{ max_date() }}
),
audience as (
    -- exact distinct reactors over the window (never a sum of daily uniques), and the same
    -- audience with each reactor weighted by how recently they last engaged.
    select as_of_day, person_id, network, count(*) as engaged_audience_90d,
        round(sum({{ decay_weight('as_of_day - last_day') }}), 9) as decayed_engaged_audience,
        sum(reactions) as reactions_90d
    from (
        select a.as_of_day, e.target_person_id as person_id, e.network, e.reactor_person_id,
            max(e.event_day) as last_day, count(*) as reactions
        from as_of as a
        join events as e on e.event_day between a.as_of_day - {{ window - 1 }} and a.as_of_day
        group by all
    )
    group by all
)
select
    w.person_id,
    w.network,
    w.as_of_day,
    coalesce(au.engaged_audience_90d, 0) as engaged_audience_90d,
    coalesce(au.decayed_engaged_audience, 0.0) as decayed_engaged_audience,
    w.decayed_reactions,
    w.decayed_posts,
    case when w.decayed_posts > 0 then w.decayed_reactions / w.decayed_posts else 0.0 end as reactions_per_post,
    case when au.reactions_90d > 0 then au.engaged_audience_90d / au.reactions_90d else 0.0 end as unique_reactor_share,
    w.selectivity_weighted_engagement,
    w.decayed_posts as activity,
    coalesce(au.reactions_90d, 0) as reactions_90d,
    w.posts_90d,
    coalesce(w.audience_size, 0) as audience_size,
    w.as_of_day - w.last_active_day as days_since_active
from windowed as w
left join audience as au using (as_of_day, person_id, network)
