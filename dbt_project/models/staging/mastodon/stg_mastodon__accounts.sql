-- One profile snapshot per account per ingested day (Mastodon Account entity).
with ranked as (
    select *, row_number() over (partition by account_id, partition_day order by fetched_at desc) as rn
    from {{ source('raw', 'mastodon_accounts') }}
)
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
from ranked
where rn = 1
