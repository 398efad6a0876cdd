-- Registered platform profiles, latest snapshot per person.
with ranked as (
    select *, row_number() over (partition by person_id order by partition_day desc, fetched_at desc) as rn
    from {{ source('raw', 'platform_profiles') }}
)
select
    person_id,
    display_name,
    birth_date,
    location,
    opted_out,
    is_private,
    private_consent,
    partition_day as snapshot_day
from ranked
where rn = 1
