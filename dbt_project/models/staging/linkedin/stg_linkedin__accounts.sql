-- One snapshot per account per ingested day: an organization (followers from networkSizes) or a
-- member (the API tells no member's follower count). No account is private, and none tells a
-- following or post count.
select
    'linkedin' as network,
    'linkedin:' || account_id as account_key,
    lower(handle) as handle,
    partition_day as snapshot_day,
    coalesce(
        payload ->> 'localizedName',
        trim(concat_ws(' ', payload ->> 'localizedFirstName', payload ->> 'localizedLastName'))
    ) as display_name,
    cast(payload -> 'networkSize' ->> 'firstDegreeSize' as bigint) as followers_count,
    cast(null as bigint) as following_count,
    cast(null as bigint) as posts_count,
    false as is_private
from {{ first_per(source('raw', 'linkedin_accounts'), 'account_id, partition_day', 'fetched_at desc') }}
