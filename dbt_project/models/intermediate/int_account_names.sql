{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='account_key') }}
-- Every network account ever snapshotted, with its greatest handle and display name over all its
-- snapshots: a run folds that window's snapshots into the accounts' rows (a max of maxes is the
-- max), so a day reads that day's snapshots, not every day's.
with window_snapshots as (
    select network, account_key, handle, display_name
    from {{ ref('int_network_accounts') }}
    {% if is_incremental() %}
        where snapshot_day between {{ min_date() }} and {{ max_date() }}
    {% endif %}
),

names as (
    select * from window_snapshots
    {% if is_incremental() %}
        union all
        select network, account_key, handle, display_name
        from {{ this }}
        semi join window_snapshots using (account_key)
    {% endif %}
)

select
    network,
    account_key,
    max(handle) as handle,
    max(display_name) as display_name
from names
group by all
