-- Every tracked network account and the person it belongs to: the registered profile that linked
-- it, else the account itself. Accounts only seen reacting (or mentioned) are their own person;
-- downstream models fall back to the account key for them, so nothing here scans reactions.
with accounts as (
    select network, account_key, handle from {{ ref('int_account_names') }}
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
left join links as l on a.network = l.network and a.handle = l.handle
