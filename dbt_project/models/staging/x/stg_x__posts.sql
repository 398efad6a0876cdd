-- Posts from GET /2/users/:id/tweets (Tweet objects). A post lands only on the day it was created,
-- so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'x' as network,
    'x:' || post_id as post_key,
    'x:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case
        when json_contains(payload -> 'referenced_tweets', '{"type": "replied_to"}') then 'reply'
        when json_contains(payload -> 'referenced_tweets', '{"type": "quoted"}') then 'quote'
        else 'post'
    end as post_kind,
    {{ strip_html("payload ->> 'text'") }} as text,
    payload ->> 'lang' as language
from {{ first_per(source('raw', 'x_posts'), 'partition_day, post_id', 'fetched_at desc') }}
