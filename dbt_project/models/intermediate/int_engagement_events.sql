{{ config(
    materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('first_seen_day') }}"
) }}
-- One engagement event per (network, post, reactor, reaction type, target), dated by when it
-- happened (or was first observed), between people: reacting to yourself is not influence.
-- Incremental on the landing day, so a day's run reads that day's reactions, not all history.
with reactions as (
    select * from ({{ union_networks('reactions') }})
    where first_seen_day between {{ min_date() }} and {{ max_date() }}
    qualify row_number() over (
        partition by network, post_key, reactor_account_key, reaction_type, target_account_key order by first_seen_day
    ) = 1
),
{% if is_incremental() %}
earlier as (
    select network, post_key, reactor_account_key, reaction_type, target_account_key
    from {{ this }}
    where first_seen_day between {{ min_date() }} - {{ var('dedupe_lookback_days') }} and {{ min_date() }} - 1
),
{% endif %}
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
{% if is_incremental() %}
anti join earlier using (network, post_key, reactor_account_key, reaction_type, target_account_key)
{% endif %}
left join identity as reactor on r.reactor_account_key = reactor.account_key
left join identity as target on r.target_account_key = target.account_key
where coalesce(reactor.person_id, r.reactor_account_key) <> coalesce(target.person_id, r.target_account_key)
