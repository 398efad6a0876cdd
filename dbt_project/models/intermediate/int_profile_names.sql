{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='person_id') }}
-- Each registered profile's display name from its latest snapshot (as stg_platform__profiles picks
-- it): a run compares its window's snapshots with the rows kept, so a day reads that day's
-- profiles, not every day's.
with candidates as (
    select person_id, display_name, partition_day as snapshot_day, fetched_at
    from {{ source('raw', 'platform_profiles') }}
    {% if is_incremental() %}
        where partition_day between {{ min_date() }} and {{ max_date() }}
        union all
        select person_id, display_name, snapshot_day, fetched_at
        from {{ this }}
        semi join (
            select person_id from {{ source('raw', 'platform_profiles') }}
            where partition_day between {{ min_date() }} and {{ max_date() }}
        ) using (person_id)
    {% endif %}
)
select * from {{ first_per('candidates', 'person_id', 'snapshot_day desc, fetched_at desc') }}
