-- Views the Khoros API counts but names nobody for (metrics.views), as each landing day observed
-- them on the posts of its lookback window: one row per (post, word, landing day).
select
    'khoros' as network,
    'khoros:' || post_id as post_key,
    'khoros:' || account_id as account_key,
    case reaction_type when 'view' then 'view' end as reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'khoros_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
