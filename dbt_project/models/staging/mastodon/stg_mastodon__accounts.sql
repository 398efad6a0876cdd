-- One profile snapshot per account per ingested day (Mastodon Account entity).
select
    'mastodon' as network,
    'mastodon:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'display_name' as display_name,
    cast(payload ->> 'followers_count' as bigint) as followers_count,
    cast(payload ->> 'following_count' as bigint) as following_count,
    cast(payload ->> 'statuses_count' as bigint) as posts_count,
    coalesce(cast(payload ->> 'locked' as boolean), false) as is_private
from {{ first_per(source('raw', 'mastodon_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
