-- One channel snapshot per account per ingested day (channels.list: snippet, statistics, contentDetails).
-- YouTube's counts are strings; it tells no following count and has no private channels.
select
    'youtube' as network,
    'youtube:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload -> 'snippet' ->> 'title' as display_name,
    cast(payload -> 'statistics' ->> 'subscriberCount' as bigint) as followers_count,
    cast(null as bigint) as following_count,
    cast(payload -> 'statistics' ->> 'videoCount' as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'youtube_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
