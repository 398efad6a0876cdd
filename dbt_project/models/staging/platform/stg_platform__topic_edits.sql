-- Profile topic edits: owners add or remove their topics, friends add (rules applied downstream).
with ranked as (
    select *, row_number() over (partition by edit_id order by partition_day desc, fetched_at desc) as rn
    from {{ source('raw', 'platform_topic_edits') }}
)
select
    edit_id,
    person_id,
    editor_person_id,
    topic_slug,
    action,
    edited_at,
    cast(timezone('UTC', edited_at) as date) as edited_day
from ranked
where rn = 1
