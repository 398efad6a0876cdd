-- One profile snapshot per account per ingested day (app.bsky.actor.defs#profileViewDetailed).
select
    'bluesky' as network,
    'bluesky:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'displayName' as display_name,
    cast(payload ->> 'followersCount' as bigint) as followers_count,
    cast(payload ->> 'followsCount' as bigint) as following_count,
    cast(payload ->> 'postsCount' as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'bluesky_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
