-- Reactions of imported logs, already in the shared vocabulary (the import maps the file's words),
-- one row per key: the import lands a key once. A reaction without a time counts on its partition
-- day, its post's day.
select
    network,
    network || ':' || post_id as post_key,
    network || ':' || author_account_id as target_account_key,
    network || ':' || reactor_account_id as reactor_account_key,
    cast(null as varchar) as reactor_handle,
    reaction_type,
    reacted_at,
    partition_day as first_seen_day,
    coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
from {{ imported_interactions() }}
where reaction_type is not null
