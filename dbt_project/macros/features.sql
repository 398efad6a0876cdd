{# The rolling-window state of fct_features_90d for as-of days min_date..max_date, from the whole
   window (fct_engagement_daily and int_reactor_days back window_days - 1 days): what a backfill,
   a first day or a day after a gap computes. `persons`, a relation of (person_id, network), limits
   it to those. Linear in the window's rows: decayed sums are range-window sums of lifted values
   (see window.sql: lift), and the exact distinct audience is a running sum of +1/-1 at the days
   each reactor enters and leaves a person's window (never a sum of daily uniques). #}
{% macro feature_state_full(persons=none) %}
{%- set window = var('window_days') -%}
daily as (
    select *, {{ lift('day') }} as lift
    from {{ ref('fct_engagement_daily') }}
    {% if persons %}semi join {{ persons }} using (person_id, network){% endif %}
    where day between {{ min_date() }} - {{ window - 1 }} and {{ max_date() }}
),
windowed as (
    select
        person_id,
        network,
        day as as_of_day,
        sum(reactions_received * lift) over w as lifted_reactions,
        sum(posts_made * lift) over w as lifted_posts,
        sum(selectivity_weighted_reactions * lift) over w as lifted_selective,
        sum(anonymous_reactions * lift) over w as lifted_anonymous,
        sum(views * lift) over w as lifted_views,
        sum(posts_made) over w as posts_90d,
        last_value(followers ignore nulls) over w as audience_size,
        max(case when followers is not null then day end) over w as followers_day,
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
    select person_id, network, reactor_person_id, event_day, sum(reactions) as reactions
    from {{ ref('int_reactor_days') }}
    {% if persons %}semi join {{ persons }} using (person_id, network){% endif %}
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
        sum({{ ordered_sum('lifted_audience') }}) over r as lifted_audience,
        sum(sum(reactions)) over r as reactions_90d
    from deltas
    group by person_id, network, day
    window r as (partition by person_id, network order by day rows unbounded preceding)
),
full_state as (
    select
        w.*,
        coalesce(r.engaged_audience_90d, 0) as engaged_audience_90d,
        coalesce(r.lifted_audience, 0.0) as lifted_audience,
        coalesce(r.reactions_90d, 0) as reactions_90d
    from windowed as w
    asof left join running as r on w.person_id = r.person_id and w.network = r.network and w.as_of_day >= r.day
)
{% endmacro %}
