-- Statuses, one row per status, HTML stripped from `content`. A post lands only on the day it was
-- created, so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'mastodon' as network,
    'mastodon:' || post_id as post_key,
    'mastodon:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case
        when (payload ->> 'in_reply_to_id') is not null then 'reply'
        when json_type(payload -> 'quote') = 'OBJECT' then 'quote'
        else 'post'
    end as post_kind,
    {{ strip_html("payload ->> 'content'") }} as text,
    payload ->> 'language' as language
from {{ first_per(source('raw', 'mastodon_posts'), 'partition_day, post_id', 'fetched_at desc') }}
