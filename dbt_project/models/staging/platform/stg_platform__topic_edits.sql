-- Profile topic edits: owners add or remove their topics, friends add (rules applied downstream).
select
    edit_id,
    person_id,
    editor_person_id,
    topic_slug,
    action,
    edited_at,
    cast(timezone('UTC', edited_at) as date) as edited_day
from {{ first_per(source('raw', 'platform_topic_edits'), 'edit_id', 'partition_day desc, fetched_at desc') }}
