{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window_minus('post_day', var('lookback_days')) }}") }}
-- Every post of a measured person with its text and the reactions it earned so far: the evidence
-- topic assignment weighs (a topic nobody reacts to is weak). A run recomputes the posts of its
-- window and of the lookback before it, the only ones whose reactions can still change.
with identity as (
    select account_key, person_id from {{ ref('int_identity') }}
),
posts as (
    select * from ({{ union_networks('posts') }})
    where partition_day between {{ min_date() }} - {{ var('lookback_days') }} and {{ max_date() }}
),
reactions as (
    select post_key, count(*) as reactions
    from {{ ref('int_engagement_events') }}
    where reaction_type <> 'mention' and event_day >= {{ min_date() }} - {{ var('lookback_days') }}
    group by post_key
)
select
    i.person_id,
    p.network,
    p.post_key,
    p.post_day,
    p.post_kind,
    p.text,
    coalesce(r.reactions, 0) as reactions
from posts as p
join identity as i using (account_key)
left join reactions as r using (post_key)
