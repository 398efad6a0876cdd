-- One Page snapshot per account per ingested day (Graph API Page node). Pages follow nobody and
-- the Page node has no post count: those counts are null.
select
    'facebook' as network,
    'facebook:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'name' as display_name,
    cast(payload ->> 'followers_count' as bigint) as followers_count,
    cast(null as bigint) as following_count,
    cast(null as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'facebook_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
