-- +K gives as the platform recorded them, one row per give (rules are applied downstream).
with ranked as (
    select *, row_number() over (partition by give_id order by partition_day desc, fetched_at desc) as rn
    from {{ source('raw', 'platform_kplus') }}
)
select
    give_id,
    giver_person_id,
    recipient_person_id,
    topic_slug,
    given_at,
    cast(timezone('UTC', given_at) as date) as given_day
from ranked
where rn = 1
