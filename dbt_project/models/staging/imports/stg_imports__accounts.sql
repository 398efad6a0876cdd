-- Authors of imported posts, one snapshot per author and day they posted: an import tells no
-- follower counts and no private flag. The handle is the file's author id, lowercased without an
-- @, so a profile linking that handle on the imported network's name claims the account.
select distinct
    network,
    network || ':' || author_account_id as account_key,
    lower(ltrim(author_account_id, '@')) as handle,
    cast(timezone('UTC', posted_at) as date) as snapshot_day,
    cast(null as varchar) as display_name,
    cast(null as bigint) as followers_count,
    cast(null as bigint) as following_count,
    cast(null as bigint) as posts_count,
    false as is_private
from {{ imported_interactions() }}
where reaction_type is distinct from 'mention'
