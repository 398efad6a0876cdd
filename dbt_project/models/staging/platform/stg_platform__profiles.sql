-- Registered platform profiles, latest snapshot per person.
select
    person_id,
    display_name,
    birth_date,
    location,
    opted_out,
    is_private,
    private_consent,
    partition_day as snapshot_day
from {{ first_per(source('raw', 'platform_profiles'), 'person_id', 'partition_day desc, fetched_at desc') }}
