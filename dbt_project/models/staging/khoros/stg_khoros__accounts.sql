-- One member snapshot per account per ingested day (LiQL users: id, login, messages.count(*)).
-- Account ids and handles are namespaced by community (`<host>:<id>`, `<host>/<login>`); Khoros has
-- no followers, no following and no private profiles.
select
    'khoros' as network,
    'khoros:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    payload ->> 'login' as display_name,
    cast(null as bigint) as followers_count,
    cast(null as bigint) as following_count,
    cast(payload -> 'messages' ->> 'count' as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'khoros_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
