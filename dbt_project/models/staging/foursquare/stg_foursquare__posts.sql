-- Check-ins (their shout) and tips (their text) of the connected owner. A post lands only on the day
-- it was created, so deduping within the landing day lets a filter on partition_day reach the scan.
select
    'foursquare' as network,
    'foursquare:' || post_id as post_key,
    'foursquare:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    'post' as post_kind,
    {{ strip_html("coalesce(payload ->> 'shout', payload ->> 'text')") }} as text,
    cast(null as varchar) as language
from {{ first_per(source('raw', 'foursquare_posts'), 'partition_day, post_id', 'fetched_at desc') }}
