-- Reactions (every reactionType), comments and mentions in the shared vocabulary, one row per key
-- and landing day. Partitioned by the landing day so a filter on it reaches the scan;
-- int_engagement_events dedupes across days.
select
    'linkedin' as network,
    'linkedin:' || post_id as post_key,
    'linkedin:' || target_account_id as target_account_key,
    'linkedin:' || reactor_account_id as reactor_account_key,
    cast(null as varchar) as reactor_handle,
    case reaction_type
        when 'reaction' then 'like'
        when 'comment' then 'reply'
        else reaction_type
    end as reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ first_per(
    source('raw', 'linkedin_reactions'),
    'partition_day, post_id, reactor_account_id, reaction_type, target_account_id',
    'fetched_at'
) }}
