-- A tip's to-dos and dones, which the API counts but names nobody for, as each landing day observed
-- them on the posts of its lookback window. Both are someone keeping the tip (like a bookmark), so
-- both are 'like' in the shared vocabulary: one row per (post, landing day) with their sum.
select
    'foursquare' as network,
    'foursquare:' || post_id as post_key,
    'foursquare:' || account_id as account_key,
    'like' as reaction_type,
    sum(total) as total,
    partition_day as observed_day
from {{ first_per(source('raw', 'foursquare_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
where reaction_type in ('todo', 'done')
group by post_id, account_id, partition_day
