-- Media from /{ig-user-id}/media (IG Media nodes). A post lands only on the day it was created,
-- so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'instagram' as network,
    'instagram:' || post_id as post_key,
    'instagram:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    'post' as post_kind,
    {{ strip_html("payload ->> 'caption'") }} as text,
    cast(null as varchar) as language
from {{ first_per(source('raw', 'instagram_posts'), 'partition_day, post_id', 'fetched_at desc') }}
