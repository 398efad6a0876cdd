-- Reactions (every type: LIKE, LOVE, WOW...), comments and mentions in the shared vocabulary, one
-- row per key and landing day. Shares are a count on the post only and never land as rows.
-- Partitioned by the landing day so a filter on it reaches the scan; int_engagement_events dedupes across days.
select
    'facebook' as network,
    'facebook:' || post_id as post_key,
    'facebook:' || target_account_id as target_account_key,
    'facebook:' || reactor_account_id as reactor_account_key,
    lower(coalesce(payload -> 'from' ->> 'username', payload ->> 'username')) as reactor_handle,
    case reaction_type
        when 'reaction' then 'like'
        when 'comment' then 'reply'
        else reaction_type
    end as reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ first_per(
    source('raw', 'facebook_reactions'),
    'partition_day, post_id, reactor_account_id, reaction_type, target_account_id',
    'fetched_at'
) }}
