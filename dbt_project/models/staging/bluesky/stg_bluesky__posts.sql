-- Posts from getAuthorFeed (postView with an app.bsky.feed.post record). A post lands only on the day
-- it was created, so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'bluesky' as network,
    'bluesky:' || post_id as post_key,
    'bluesky:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case
        when (payload -> 'record' -> 'reply') is not null then 'reply'
        when json_extract_string(payload, '$.record.embed."$type"') like 'app.bsky.embed.record%' then 'quote'
        else 'post'
    end as post_kind,
    {{ strip_html("payload -> 'record' ->> 'text'") }} as text,
    payload -> 'record' -> 'langs' ->> 0 as language
from {{ first_per(source('raw', 'bluesky_posts'), 'partition_day, post_id', 'fetched_at desc') }}
