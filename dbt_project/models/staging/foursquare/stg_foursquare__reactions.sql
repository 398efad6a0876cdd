-- Likes, comments and shout mentions in the shared vocabulary, one row per key and landing day:
-- like -> like (no time: the first day seen counts), comment -> reply, mention as it is. Partitioned
-- by the landing day so a filter on it reaches the scan; int_engagement_events dedupes across days.
select
    'foursquare' as network,
    'foursquare:' || post_id as post_key,
    'foursquare:' || target_account_id as target_account_key,
    'foursquare:' || reactor_account_id as reactor_account_key,
    lower(coalesce(payload -> 'user' ->> 'handle', payload ->> 'handle')) as reactor_handle,
    case reaction_type when 'comment' then 'reply' else reaction_type end as reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ first_per(
    source('raw', 'foursquare_reactions'),
    'partition_day, post_id, reactor_account_id, reaction_type, target_account_id',
    'fetched_at'
) }}
