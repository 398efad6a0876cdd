-- One User snapshot per account per ingested day. public_metrics names the post count tweet_count
-- (spec 2.159 and the recorded API) or post_count (spec 2.167): either is read.
select
    'x' as network,
    'x:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'name' as display_name,
    cast(payload -> 'public_metrics' ->> 'followers_count' as bigint) as followers_count,
    cast(payload -> 'public_metrics' ->> 'following_count' as bigint) as following_count,
    cast(
        coalesce(payload -> 'public_metrics' ->> 'tweet_count', payload -> 'public_metrics' ->> 'post_count')
        as bigint
    ) as posts_count,
    coalesce(cast(payload ->> 'protected' as boolean), false) as is_private
from {{ first_per(source('raw', 'x_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
