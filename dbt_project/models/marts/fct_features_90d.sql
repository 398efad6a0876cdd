{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('as_of_day') }}") }}
-- person x network x as-of day: the rolling window, weighted to recent days by a half-life decay.
-- The window's arithmetic (carried forward day by day, or the full window) is int_feature_sums';
-- this publishes its features for the partition window.
select
    person_id,
    network,
    as_of_day,
    engaged_audience_90d,
    decayed_engaged_audience,
    decayed_reactions,
    decayed_posts,
    reactions_per_post,
    unique_reactor_share,
    selectivity_weighted_engagement,
    decayed_anonymous_reactions,
    decayed_views,
    activity,
    reactions_90d,
    posts_90d,
    coalesce(audience_size, 0) as audience_size,
    days_since_active
from {{ ref('int_feature_sums') }}
where as_of_day between {{ min_date() }} and {{ max_date() }}
