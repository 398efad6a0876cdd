-- One user snapshot per account per ingested day (list=users with usprop=editcount|registration).
-- Wikipedia has no followers and no private accounts.
select
    'wikipedia' as network,
    'wikipedia:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'name' as display_name,
    cast(null as bigint) as followers_count,
    cast(null as bigint) as following_count,
    cast(payload ->> 'editcount' as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'wikipedia_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
