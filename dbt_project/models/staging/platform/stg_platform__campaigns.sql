-- Perk campaigns and the brand's requirements.
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
from {{ first_per(source('raw', 'platform_campaigns'), 'campaign_id', 'partition_day desc, fetched_at desc') }}
