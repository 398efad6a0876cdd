{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='account_key') }}
-- Every network account ever snapshotted, with its greatest handle and display name over all its
-- snapshots: a run folds that window's snapshots into the accounts' rows (a max of maxes is the
-- max), so a day reads that day's snapshots, not every day's.
select
    network,
    account_key,
    max(handle) as handle,
    max(display_name) as display_name
from (
    select network, account_key, handle, display_name
    from {{ ref('int_network_accounts') }}
    {% if is_incremental() %}
        where snapshot_day between {{ min_date() }} and {{ max_date() }}
    {% endif %}
    {% if is_incremental() %}
        union all
        select network, account_key, handle, display_name
        from {{ this }}
        semi join (
            select account_key from {{ ref('int_network_accounts') }}
            where snapshot_day between {{ min_date() }} and {{ max_date() }}
        ) using (account_key)
    {% endif %}
)
group by all
