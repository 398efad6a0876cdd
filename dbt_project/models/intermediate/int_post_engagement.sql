-- Every post of a measured person with its text and the reactions it earned: the evidence
-- topic assignment weighs (a topic nobody reacts to is weak).
with identity as (
    select account_key, person_id from {{ ref('int_identity') }}
),
posts as (
    select * from ({{ union_networks('posts') }})
),
reactions as (
    select post_key, count(*) as reactions
    from {{ ref('int_engagement_events') }}
    where reaction_type <> 'mention'
    group by post_key
)
select
    i.person_id,
    p.network,
    p.post_key,
    p.post_day,
    p.post_kind,
    p.text,
    coalesce(r.reactions, 0) as reactions
from posts as p
join identity as i using (account_key)
left join reactions as r using (post_key)
