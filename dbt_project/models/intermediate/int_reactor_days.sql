{{ config(
    materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('first_seen_day') }}"
) }}
-- person x network x reactor x reaction day x landing day: how many reactions, the compact state
-- the distinct 90-day audience is counted from, so a day's run never re-reads 90 days of events.
-- Incremental on first_seen_day like int_engagement_events; its first build takes all of them.
-- The reactor's account key stays, so forgetting an unmeasured reactor pseudonymises their rows
-- here exactly as in int_engagement_events (they still count, once, under the pseudonym).
select
    target_person_id as person_id,
    network,
    reactor_person_id,
    reactor_account_key,
    event_day,
    first_seen_day,
    count(*) as reactions
from {{ ref('int_engagement_events') }}
{% if is_incremental() %}
    where first_seen_day between {{ min_date() }} and {{ max_date() }}
{% endif %}
group by all
order by event_day  -- a day's rows together: a daily run reads the day leaving the window
