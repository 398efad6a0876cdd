-- Uploads (videos.list: snippet, statistics). A video lands only on the day it was published, so
-- deduping within the landing day lets a filter on partition_day reach the scan.
select
    'youtube' as network,
    'youtube:' || post_id as post_key,
    'youtube:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    'post' as post_kind,
    {{ strip_html("payload -> 'snippet' ->> 'description'") }} as text,
    coalesce(payload -> 'snippet' ->> 'defaultLanguage', payload -> 'snippet' ->> 'defaultAudioLanguage') as language
from {{ first_per(source('raw', 'youtube_posts'), 'partition_day, post_id', 'fetched_at desc') }}
