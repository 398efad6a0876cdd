-- Imported logs name every reactor: no anonymous counts (the relation keeps the union's shape).
select
    network,
    network || ':' || post_id as post_key,
    network || ':' || author_account_id as account_key,
    reaction_type,
    cast(null as bigint) as total,
    partition_day as observed_day
from {{ imported_interactions() }}
where false
