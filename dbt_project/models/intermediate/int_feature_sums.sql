{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('as_of_day') }}") }}
-- person x network x as-of day: the rolling-window state behind fct_features_90d (undecayed lifted
-- sums, counts, the distinct audience) and the features it gives. A daily run (one day, the day
-- before it the latest here) carries the previous day's rows forward by what enters and leaves
-- the window: that day's fct_engagement_daily rows and day - window_days's, and the reactor pairs
-- of int_reactor_days that landed that day or reacted last on the day leaving. Anything else (a
-- backfill, a first day, a gap) and persons without a row the day before take the full window.
{%- set window = var('window_days') -%}
{%- set carry = false -%}
{%- if execute and var('carry_forward_features') and is_incremental() and var('min_date') == var('max_date') -%}
    {%- set latest = run_query(
        "select count(*) filter (where as_of_day = " ~ min_date() ~ " - 1), count(*) filter (where as_of_day > "
        ~ min_date() ~ ") from " ~ this
    ) -%}
    {%- set carry = latest.columns[0].values()[0] > 0 and latest.columns[1].values()[0] == 0 -%}
{%- endif %}
{% if carry %}
with today as (
    select *, {{ lift('day') }} as lift
    from {{ ref('fct_engagement_daily') }}
    where day = {{ min_date() }}
),
previous as (
    select * from {{ this }} where as_of_day = {{ min_date() }} - 1
),
leaving as (
    select *, {{ lift('day') }} as lift
    from {{ ref('fct_engagement_daily') }}
    where day = {{ min_date() }} - {{ window }}
),
carried_persons as (
    select person_id, network from today semi join previous using (person_id, network)
),
fresh_persons as (
    select person_id, network from today anti join previous using (person_id, network)
),
{{ feature_state_full('fresh_persons') }},
landed as (
    -- reactions that landed today on a day in the window: the only pairs that can join it or move
    select person_id, network, reactor_person_id, event_day, reactions
    from {{ ref('int_reactor_days') }}
    semi join carried_persons using (person_id, network)
    where first_seen_day = {{ min_date() }} and event_day between {{ min_date() }} - {{ window - 1 }} and {{ min_date() }}
),
left_window as (
    -- reactions on the day that leaves the window, as the previous day counted them
    select person_id, network, reactor_person_id, reactions
    from {{ ref('int_reactor_days') }}
    semi join carried_persons using (person_id, network)
    where event_day = {{ min_date() }} - {{ window }} and first_seen_day < {{ min_date() }}
),
moved as (
    select distinct person_id, network, reactor_person_id from landed
    union
    select distinct person_id, network, reactor_person_id from left_window
),
pair_days as (
    -- each moved pair's latest reaction day in the previous day's window and in today's
    select
        person_id,
        network,
        reactor_person_id,
        max(event_day) filter (
            where event_day < {{ min_date() }} and first_seen_day < {{ min_date() }}
        ) as last_before,
        max(event_day) filter (where event_day > {{ min_date() }} - {{ window }}) as last_now
    from {{ ref('int_reactor_days') }}
    semi join moved using (person_id, network, reactor_person_id)
    where event_day between {{ min_date() }} - {{ window }} and {{ min_date() }}
    group by all
),
audience_change as (
    select
        person_id,
        network,
        sum((last_now is not null)::int - (last_before is not null)::int) as audience,
        {{ ordered_sum("coalesce(" ~ lift('last_now') ~ ", 0.0) - coalesce(" ~ lift('last_before') ~ ", 0.0)") }}
            as lifted_audience
    from pair_days
    group by all
),
reactions_change as (
    select person_id, network, sum(reactions) as reactions
    from (
        select person_id, network, reactions from landed
        union all
        select person_id, network, -reactions from left_window
    )
    group by all
),
carried as (
    select
        t.person_id,
        t.network,
        t.day as as_of_day,
        p.lifted_reactions + t.reactions_received * t.lift - coalesce(l.reactions_received * l.lift, 0.0)
            as lifted_reactions,
        p.lifted_posts + t.posts_made * t.lift - coalesce(l.posts_made * l.lift, 0.0) as lifted_posts,
        p.lifted_selective + t.selectivity_weighted_reactions * t.lift
            - coalesce(l.selectivity_weighted_reactions * l.lift, 0.0) as lifted_selective,
        p.lifted_anonymous + t.anonymous_reactions * t.lift - coalesce(l.anonymous_reactions * l.lift, 0.0)
            as lifted_anonymous,
        p.lifted_views + t.views * t.lift - coalesce(l.views * l.lift, 0.0) as lifted_views,
        p.lifted_audience + coalesce(ac.lifted_audience, 0.0) as lifted_audience,
        p.engaged_audience_90d + coalesce(ac.audience, 0) as engaged_audience_90d,
        p.reactions_90d + coalesce(rc.reactions, 0) as reactions_90d,
        p.posts_90d + t.posts_made - coalesce(l.posts_made, 0) as posts_90d,
        case
            when t.followers is not null then t.followers
            when p.followers_day > t.day - {{ window }} then p.audience_size
        end as audience_size,
        case
            when t.followers is not null then t.day
            when p.followers_day > t.day - {{ window }} then p.followers_day
        end as followers_day,
        case
            when t.posts_made > 0 or t.reactions_received > 0 then t.day
            when p.last_active_day > t.day - {{ window }} then p.last_active_day
        end as last_active_day
    from today as t
    join previous as p using (person_id, network)
    left join leaving as l using (person_id, network)
    left join audience_change as ac using (person_id, network)
    left join reactions_change as rc using (person_id, network)
),
state as (
    select * from carried
    union all by name
    select * from full_state
)
{% else %}
    with {{ feature_state_full() }}
{% endif %}
select
    *,
    -- "+ 0.0": a carried sum whose days have all left may end a hair below zero; never print -0.0
    round(lifted_audience / {{ lift('as_of_day') }}, 9) + 0.0 as decayed_engaged_audience,
    round(lifted_reactions / {{ lift('as_of_day') }}, 9) + 0.0 as decayed_reactions,
    round(lifted_posts / {{ lift('as_of_day') }}, 9) + 0.0 as decayed_posts,
    case when posts_90d > 0 then round(lifted_reactions / lifted_posts, 9) + 0.0 else 0.0 end as reactions_per_post,
    case when reactions_90d > 0 then engaged_audience_90d / reactions_90d else 0.0 end as unique_reactor_share,
    round(lifted_selective / {{ lift('as_of_day') }}, 9) + 0.0 as selectivity_weighted_engagement,
    round(lifted_anonymous / {{ lift('as_of_day') }}, 9) + 0.0 as decayed_anonymous_reactions,
    round(lifted_views / {{ lift('as_of_day') }}, 9) + 0.0 as decayed_views,
    round(lifted_posts / {{ lift('as_of_day') }}, 9) + 0.0 as activity,
    as_of_day - last_active_day as days_since_active
from {{ 'state' if carry else 'full_state' }}
order by as_of_day  -- a day's rows together: the next day and fct_features_90d read one day
