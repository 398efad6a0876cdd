{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('post_day') }}") }}
-- Every post of a measured person with its text: what topic assignment reads. The engagement a
-- post earned is counted as of each day from int_engagement_events, so a backfill and daily runs
-- see the same evidence.
with identity as (
    select account_key, person_id from {{ ref('int_identity') }}
)
select
    i.person_id,
    p.network,
    p.post_key,
    p.post_day,
    p.post_kind,
    p.text
from {{ ref('int_network_posts') }} as p
join identity as i using (account_key)
where p.partition_day between {{ min_date() }} and {{ max_date() }}  -- = post_day: posts land on their day
