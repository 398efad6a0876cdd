-- Posts of imported logs: one per (network, post), its first imported row's author, time and text.
-- A mention row's post is the mentioner's, not the mentioned author's, so it names no post here.
select
    network,
    network || ':' || post_id as post_key,
    network || ':' || author_account_id as account_key,
    posted_at as created_at,
    cast(timezone('UTC', posted_at) as date) as post_day,
    cast(timezone('UTC', posted_at) as date) as partition_day,
    'post' as post_kind,
    trim(regexp_replace(text, '\s+', ' ', 'g')) as text,
    cast(null as varchar) as language
from {{ first_per(imported_interactions(), 'network, post_id', 'fetched_at, source_line') }}
where reaction_type is distinct from 'mention'
