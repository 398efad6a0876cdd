-- Comments and mentions in the shared vocabulary, one row per key and landing day: every comment on a
-- video (a thread opener or a reply in its thread) is a reply to the video's channel. Partitioned by the
-- landing day so a filter on it reaches the scan; int_engagement_events dedupes across days.
select
    'youtube' as network,
    'youtube:' || post_id as post_key,
    'youtube:' || target_account_id as target_account_key,
    'youtube:' || reactor_account_id as reactor_account_key,
    case
        when payload -> 'snippet' ->> 'authorDisplayName' like '@%'
            then lower(ltrim(payload -> 'snippet' ->> 'authorDisplayName', '@'))
    end as reactor_handle,
    case reaction_type when 'comment' then 'reply' else reaction_type end as reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ first_per(
    source('raw', 'youtube_reactions'),
    'partition_day, post_id, reactor_account_id, reaction_type, target_account_id',
    'fetched_at'
) }}
