-- Edits (list=usercontribs items), one row per revision. A page creation is a post, an edit of an
-- existing page a reply to it; the edit summary is the text. A post lands only on the day it was
-- created, so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'wikipedia' as network,
    'wikipedia:' || post_id as post_key,
    'wikipedia:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case
        when coalesce(cast(payload ->> 'new' as boolean), false) then 'post'
        else 'reply'
    end as post_kind,
    payload ->> 'comment' as text,
    payload ->> 'title' as page_title,
    cast(null as varchar) as language
from {{ first_per(source('raw', 'wikipedia_posts'), 'partition_day, post_id', 'fetched_at desc') }}
