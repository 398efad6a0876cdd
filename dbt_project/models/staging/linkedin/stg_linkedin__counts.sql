-- LinkedIn names the actor of every reaction and comment read, so its counts table stays empty:
-- the model keeps the shape int_network_counts unions.
select
    'linkedin' as network,
    'linkedin:' || post_id as post_key,
    'linkedin:' || account_id as account_key,
    reaction_type,
    total,
    partition_day as observed_day
from {{ first_per(source('raw', 'linkedin_counts'), 'partition_day, post_id, reaction_type', 'fetched_at desc') }}
