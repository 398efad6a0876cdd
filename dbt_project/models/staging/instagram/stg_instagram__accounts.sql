-- One profile snapshot per account per ingested day (IG User from business_discovery).
select
    'instagram' as network,
    'instagram:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'name' as display_name,
    cast(payload ->> 'followers_count' as bigint) as followers_count,
    cast(payload ->> 'follows_count' as bigint) as following_count,
    cast(payload ->> 'media_count' as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'instagram_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
