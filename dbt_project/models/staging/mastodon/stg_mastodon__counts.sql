-- Mastodon names every reactor, so its counts table stays empty: the model keeps the shape
-- int_network_counts unions.
select
    'mastodon' as network,
    'mastodon:' || post_id as post_key,
    'mastodon:' || account_id as account_key,
    reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'mastodon_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
