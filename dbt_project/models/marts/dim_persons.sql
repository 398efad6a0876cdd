-- One row per person we measure: registered profiles and the public accounts nobody claimed.
-- Display names only: no contact data, birth date or location leaves the platform tables.
with identity as (
    select * from {{ ref('int_identity') }}
),
profiles as (
    select person_id, display_name from {{ ref('stg_platform__profiles') }}
),
account_names as (
    select account_key, display_name from {{ ref('int_account_names') }}
)
select
    i.person_id,
    coalesce(max(p.display_name), max(a.display_name), max(i.handle)) as display_name,
    bool_or(i.is_registered) as is_registered,
    count(distinct i.network) as networks
from identity as i
left join profiles as p using (person_id)
left join account_names as a using (account_key)
group by i.person_id
