-- One engagement event per (network, post, reactor, reaction type), dated by when it happened
-- (or was first observed), between people: reacting to yourself is not influence.
with reactions as (
    {{ union_networks('reactions') }}
),
identity as (
    select account_key, person_id from {{ ref('int_identity') }}
)
select
    r.network,
    r.post_key,
    r.reaction_type,
    r.reactor_account_key,
    r.target_account_key,
    coalesce(reactor.person_id, r.reactor_account_key) as reactor_person_id,
    coalesce(target.person_id, r.target_account_key) as target_person_id,
    r.reacted_at,
    r.first_seen_day,
    r.event_day
from reactions as r
left join identity as reactor on reactor.account_key = r.reactor_account_key
left join identity as target on target.account_key = r.target_account_key
where coalesce(reactor.person_id, r.reactor_account_key) <> coalesce(target.person_id, r.target_account_key)
