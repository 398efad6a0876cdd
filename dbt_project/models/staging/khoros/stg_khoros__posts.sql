-- Messages (LiQL messages by author.login): a topic (depth 0) is a post, a message answering
-- another (depth > 0) a reply. A message lands only on the day it was posted, so deduping within
-- the landing day lets a filter on partition_day reach the scan.
select
    'khoros' as network,
    'khoros:' || post_id as post_key,
    'khoros:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case when coalesce(cast(payload ->> 'depth' as integer), 0) = 0 then 'post' else 'reply' end as post_kind,
    {{ strip_html("payload ->> 'body'") }} as text,
    cast(null as varchar) as language
from {{ first_per(source('raw', 'khoros_posts'), 'partition_day, post_id', 'fetched_at desc') }}
