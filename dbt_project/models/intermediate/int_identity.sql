-- Every network account we know of (tracked, or seen reacting) and the person it belongs to:
-- the registered profile that linked it, else the account itself.
with known as (
    select network, account_key, handle from ({{ union_networks('accounts') }})
    union all
    select network, reactor_account_key, reactor_handle from ({{ union_networks('reactions') }})
    union all
    -- mentioned accounts may be neither tracked nor reactors; their handle is unknown
    select network, target_account_key, null from ({{ union_networks('reactions') }})
),
accounts as (
    select network, account_key, max(handle) as handle
    from known
    group by all
),
links as (
    select * from {{ ref('stg_platform__links') }}
)
select
    a.network,
    a.account_key,
    a.handle,
    coalesce(l.person_id, a.account_key) as person_id,
    l.person_id is not null as is_registered
from accounts as a
left join links as l on l.network = a.network and l.handle = a.handle
