-- Reactions the Facebook Pages API counts but names nobody for (shares.count), as each landing day
-- observed them on the posts of its lookback window: one row per (post, word, landing day).
select
    'facebook' as network,
    'facebook:' || post_id as post_key,
    'facebook:' || account_id as account_key,
    case reaction_type
        when 'share' then 'reshare'
    end as reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'facebook_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
