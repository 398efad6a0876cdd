-- Page posts from /{page-id}/posts (PagePost nodes). A post lands only on the day it was created,
-- so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'facebook' as network,
    'facebook:' || post_id as post_key,
    'facebook:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case when (payload ->> 'parent_id') is not null then 'quote' else 'post' end as post_kind,
    {{ strip_html("payload ->> 'message'") }} as text,
    cast(null as varchar) as language
from {{ first_per(source('raw', 'facebook_posts'), 'partition_day, post_id', 'fetched_at desc') }}
