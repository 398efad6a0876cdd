-- Reactions the Instagram API counts but names nobody for (like_count), as each landing day
-- observed them on the posts of its lookback window: one row per (post, word, landing day).
select
    'instagram' as network,
    'instagram:' || post_id as post_key,
    'instagram:' || account_id as account_key,
    case reaction_type
        when 'like' then 'like'
    end as reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'instagram_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
