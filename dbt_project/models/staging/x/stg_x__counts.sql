-- Reactions the X API counts but names nobody for (public_metrics.bookmark_count and
-- impression_count), as each landing day observed them on the posts of its lookback window: one
-- row per (post, word, landing day).
select
    'x' as network,
    'x:' || post_id as post_key,
    'x:' || account_id as account_key,
    case reaction_type
        when 'bookmark' then 'like'
        when 'impression' then 'view'
    end as reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'x_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
