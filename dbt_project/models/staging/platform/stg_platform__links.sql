-- Network accounts linked by registered profiles, as of the latest profile snapshot.
with latest as (
    select max(partition_day) as partition_day from {{ source('raw', 'platform_links') }}
)
select distinct
    l.person_id,
    l.network,
    lower(l.handle) as handle
from {{ source('raw', 'platform_links') }} as l
join latest using (partition_day)
