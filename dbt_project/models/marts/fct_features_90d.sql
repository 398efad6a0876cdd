{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('as_of_day') }}") }}
-- person x network x as-of day: the rolling window, weighted to recent days by a half-life decay.
-- Linear in the window's rows: decayed sums are range-window sums of lifted values
-- (see macros/window.sql: lift), and the exact distinct audience is a running sum of +1/-1 at
-- the days each reactor enters and leaves a person's window (never a sum of daily uniques).
{% set window = var('window_days') %}
with daily as (
    select *, {{ lift('day') }} as lift
    from {{ ref('fct_engagement_daily') }}
    where day between {{ min_date() }} - {{ window - 1 }} and {{ max_date() }}
),
windowed as (
    select
        person_id,
        network,
        day as as_of_day,
        {{ lift('day') }} as as_of_lift,
        sum(reactions_received * lift) over w as lifted_reactions,
        sum(posts_made * lift) over w as lifted_posts,
        sum(selectivity_weighted_reactions * lift) over w as lifted_selective,
        sum(anonymous_reactions * lift) over w as lifted_anonymous,
        sum(views * lift) over w as lifted_views,
        sum(posts_made) over w as posts_90d,
        last_value(followers ignore nulls) over w as audience_size,
        max(case when posts_made > 0 or reactions_received > 0 then day end) over w as last_active_day
    from daily
    window
        w as (
            partition by person_id, network order by day
            range between interval {{ window - 1 }} days preceding and current row
        )
    qualify day between {{ min_date() }} and {{ max_date() }}
),
reactor_days as (
    select target_person_id as person_id, network, reactor_person_id, event_day, count(*) as reactions
    from {{ ref('int_engagement_events') }}
    where event_day between {{ min_date() }} - {{ window - 1 }} and {{ max_date() }}
    group by all
),
stints as (
    -- a reactor counts for a person from each day they react until their next reaction day, or
    -- until the window has passed; the decayed audience weighs them by that latest reaction day
    select
        *,
        least(
            coalesce(
                lead(event_day) over (partition by person_id, network, reactor_person_id order by event_day),
                event_day + {{ window }}
            ),
            event_day + {{ window }}
        ) as until_day
    from reactor_days
),
deltas as (
    select person_id, network, event_day as day, 1 as audience, {{ lift('event_day') }} as lifted_audience, reactions
    from stints
    union all
    select
        person_id, network, until_day as day, -1 as audience, -{{ lift('event_day') }} as lifted_audience,
        0 as reactions
    from stints
    union all
    select
        person_id, network, event_day + {{ window }} as day, 0 as audience, 0.0 as lifted_audience,
        -reactions as reactions
    from reactor_days
),
running as (
    select
        person_id,
        network,
        day,
        sum(sum(audience)) over r as engaged_audience_90d,
        sum(sum(lifted_audience)) over r as lifted_audience,
        sum(sum(reactions)) over r as reactions_90d
    from deltas
    group by person_id, network, day
    window r as (partition by person_id, network order by day rows unbounded preceding)
),
audience as (
    select w.as_of_day, w.person_id, w.network, r.engaged_audience_90d, r.lifted_audience, r.reactions_90d
    from windowed as w
    asof join running as r on w.person_id = r.person_id and w.network = r.network and w.as_of_day >= r.day
)
select
    w.person_id,
    w.network,
    w.as_of_day,
    coalesce(au.engaged_audience_90d, 0) as engaged_audience_90d,
    round(coalesce(au.lifted_audience / w.as_of_lift, 0.0), 9) as decayed_engaged_audience,
    round(w.lifted_reactions / w.as_of_lift, 9) as decayed_reactions,
    round(w.lifted_posts / w.as_of_lift, 9) as decayed_posts,
    case when w.lifted_posts > 0 then round(w.lifted_reactions / w.lifted_posts, 9) else 0.0 end as reactions_per_post,
    case when au.reactions_90d > 0 then au.engaged_audience_90d / au.reactions_90d else 0.0 end as unique_reactor_share,
    round(w.lifted_selective / w.as_of_lift, 9) as selectivity_weighted_engagement,
    round(w.lifted_anonymous / w.as_of_lift, 9) as decayed_anonymous_reactions,
    round(w.lifted_views / w.as_of_lift, 9) as decayed_views,
    round(w.lifted_posts / w.as_of_lift, 9) as activity,
    coalesce(au.reactions_90d, 0) as reactions_90d,
    w.posts_90d,
    coalesce(w.audience_size, 0) as audience_size,
    w.as_of_day - w.last_active_day as days_since_active
from windowed as w
left join audience as au using (as_of_day, person_id, network)
