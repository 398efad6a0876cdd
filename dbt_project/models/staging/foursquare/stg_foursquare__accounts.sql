-- One snapshot of the owner's own user object (users/self) per account per ingested day. Friendship
-- is two-way on Foursquare: friends are both followers and following. No private flag: only the
-- owner's own token reads their check-ins.
select
    'foursquare' as network,
    'foursquare:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    trim(coalesce(payload ->> 'firstName', '') || ' ' || coalesce(payload ->> 'lastName', '')) as display_name,
    cast(payload -> 'friends' ->> 'count' as bigint) as followers_count,
    cast(payload -> 'friends' ->> 'count' as bigint) as following_count,
    cast(payload -> 'checkins' ->> 'count' as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'foursquare_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
