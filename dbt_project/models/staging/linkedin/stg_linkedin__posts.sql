-- Posts from posts?q=author. The commentary is little text: mentions @[Name](urn) read as @Name,
-- hashtags {hashtag|\#|tag} as #tag, and escaped reserved characters as themselves. A post lands
-- only on the day it was published, so deduping within the landing day lets a filter on
-- partition_day reach the scan.
select
    'linkedin' as network,
    'linkedin:' || post_id as post_key,
    'linkedin:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case when (payload -> 'reshareContext' ->> 'parent') is not null then 'quote' else 'post' end as post_kind,
    regexp_replace(
        regexp_replace(
            regexp_replace(payload ->> 'commentary', '\{hashtag\|\\#\|((?:[^}\\]|\\.)*)\}', '#\1', 'g'),
            '@\[((?:[^\]\\]|\\.)*)\]\([^)]*\)', '@\1', 'g'
        ),
        '\\(.)', '\1', 'g'
    ) as text,
    cast(null as varchar) as language
from {{ first_per(source('raw', 'linkedin_posts'), 'partition_day, post_id', 'fetched_at desc') }}
