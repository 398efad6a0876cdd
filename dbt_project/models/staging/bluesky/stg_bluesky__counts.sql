-- Bluesky names every reactor, so its counts table stays empty: the model keeps the shape
-- int_network_counts unions.
select
    'bluesky' as network,
    'bluesky:' || post_id as post_key,
    'bluesky:' || account_id as account_key,
    reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'bluesky_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
