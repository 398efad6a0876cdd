{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ replace_window('snapshot_day') }}") }}
-- Every registered network's account snapshots in one relation, so models downstream (and their
-- unit tests) name one input, not one per network. A table, filled a window at a time: as a view,
-- every reader (who is measured, who is private, the serving snapshot) re-parsed every snapshot
-- ever landed, so a day's cost grew with its history.
select * from ({{ union_networks('accounts') }})
{% if is_incremental() %}
    where snapshot_day between {{ min_date() }} and {{ max_date() }}
{% endif %}
