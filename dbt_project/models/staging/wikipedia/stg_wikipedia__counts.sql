-- Reactions the Wikipedia API counts but names nobody for (the REST per-article pageviews of pages
-- the editor created, summed since creation), as each landing day observed them on the posts of
-- its lookback window: one row per (post, word, landing day).
select
    'wikipedia' as network,
    'wikipedia:' || post_id as post_key,
    'wikipedia:' || account_id as account_key,
    case reaction_type
        when 'view' then 'view'
    end as reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'wikipedia_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
