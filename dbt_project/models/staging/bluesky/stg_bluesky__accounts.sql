-- One profile snapshot per account per ingested day (app.bsky.actor.defs#profileViewDetailed).
with ranked as (
    select *, row_number() over (partition by account_id, partition_day order by fetched_at desc) as rn
    from {{ source('raw', 'bluesky_accounts') }}
)
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
from ranked
where rn = 1
