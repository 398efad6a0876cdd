-- Favourites, reblogs, replies and mentions in the shared vocabulary, one row per key and landing day.
-- Partitioned by the landing day so a filter on it reaches the scan; int_engagement_events dedupes across days.
select
    'mastodon' as network,
    'mastodon:' || post_id as post_key,
    'mastodon:' || target_account_id as target_account_key,
    'mastodon:' || reactor_account_id as reactor_account_key,
    lower(coalesce(payload -> 'account' ->> 'acct', payload ->> 'acct')) as reactor_handle,
    case reaction_type
        when 'favourite' then 'like'
        when 'reblog' then 'reshare'
        else reaction_type
    end as reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ first_per(
    source('raw', 'mastodon_reactions'),
    'partition_day, post_id, reactor_account_id, reaction_type, target_account_id',
    'fetched_at'
) }}
