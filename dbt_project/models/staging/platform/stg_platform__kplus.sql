-- +K gives as the platform recorded them, one row per give (rules are applied downstream).
select
    give_id,
    giver_person_id,
    recipient_person_id,
    topic_slug,
    given_at,
    cast(timezone('UTC', given_at) as date) as given_day
from {{ first_per(source('raw', 'platform_kplus'), 'give_id', 'partition_day desc, fetched_at desc') }}
