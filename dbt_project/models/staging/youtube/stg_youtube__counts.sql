-- Reactions the YouTube API counts but names nobody for (statistics.likeCount and viewCount), as
-- each landing day observed them on the posts of its lookback window: one row per (post, word,
-- landing day).
select
    'youtube' as network,
    'youtube:' || post_id as post_key,
    'youtube:' || account_id as account_key,
    case reaction_type
        when 'like' then 'like'
        when 'view' then 'view'
    end as reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'youtube_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
