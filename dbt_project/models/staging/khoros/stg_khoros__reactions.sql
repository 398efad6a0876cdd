-- Kudos, replies and mentions in the shared vocabulary, one row per key and landing day: a kudo is
-- a like, a message whose parent is the post a reply. Partitioned by the landing day so a filter on
-- it reaches the scan; int_engagement_events dedupes across days.
select
    'khoros' as network,
    'khoros:' || post_id as post_key,
    'khoros:' || target_account_id as target_account_key,
    'khoros:' || reactor_account_id as reactor_account_key,
    case
        when coalesce(payload -> 'giver' ->> 'login', payload -> 'author' ->> 'login') is not null
            then lower(
                (payload ->> 'community') || '/'
                || coalesce(payload -> 'giver' ->> 'login', payload -> 'author' ->> 'login')
            )
    end as reactor_handle,
    case reaction_type when 'kudo' then 'like' else reaction_type end as reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ first_per(
    source('raw', 'khoros_reactions'),
    'partition_day, post_id, reactor_account_id, reaction_type, target_account_id',
    'fetched_at'
) }}
