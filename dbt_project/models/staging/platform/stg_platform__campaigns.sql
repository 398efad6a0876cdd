-- Perk campaigns and the brand's requirements.
with ranked as (
    select *, row_number() over (partition by campaign_id order by partition_day desc, fetched_at desc) as rn
    from {{ source('raw', 'platform_campaigns') }}
)
select
    campaign_id,
    payload ->> 'brand' as brand,
    payload ->> 'title' as title,
    cast(payload -> 'topics' as varchar[]) as topics,
    cast(payload ->> 'min_score' as double) as min_score,
    cast(payload -> 'locations' as varchar[]) as locations,
    cast(payload ->> 'starts_on' as date) as starts_on,
    cast(payload ->> 'ends_on' as date) as ends_on,
    cast(payload ->> 'capacity' as integer) as capacity
from ranked
where rn = 1
