-- Statuses, one row per status, HTML stripped from `content`.
with ranked as (
    select *, row_number() over (partition by post_id order by partition_day, fetched_at desc) as rn
    from {{ source('raw', 'mastodon_posts') }}
)
select
    'mastodon' as network,
    'mastodon:' || post_id as post_key,
    'mastodon:' || account_id as account_key,
    created_at,
    cast(timezone('UTC', created_at) as date) as post_day,
    partition_day,
    case
        when (payload ->> 'in_reply_to_id') is not null then 'reply'
        when json_type(payload -> 'quote') = 'OBJECT' then 'quote'
        else 'post'
    end as post_kind,
    {{ strip_html("payload ->> 'content'") }} as text,
    payload ->> 'language' as language
from ranked
where rn = 1
