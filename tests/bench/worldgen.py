"""Scale worlds straight into the raw tables of docs/contracts.md (no HTTP, no connectors).

The rows come from the sandbox world generator itself (`sandbox/world.py`): the same
static population (`_persons`, `_accounts`) and the same per-day draws (`_Day`) that
`build_world` concatenates. We stream it one day at a time instead of calling `build_world`, so
memory stays bounded by one day of content at any scale, and we write each day with one
`INSERT ... SELECT` per table in DuckDB, the JSON payloads built by `json_object(...)` with the
fields staging reads. Ingest semantics are those of an in-order daily landing where every
account is tracked (not only registered persons' and public ones) except those the privacy gate
excludes (see `_GATED_REACTIONS`): partition D holds the posts created on D, the reactions
created on D (reactions created after the world's last day are not yet visible and are dropped),
and one profile snapshot per account.

The platform tables are landed as `connectors/landing.py` lands them from the platform API
(`sandbox/platform.py: Platform`): partition D holds the +K gives and profile topic
edits made on D, and a snapshot of every perk campaign started by D. Registered profiles and
their links are one snapshot on the first day; opted-out profiles keep only their id and the
opt-out flag (what the registry keeps of them), and the generator never has them give, receive or
edit topics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

import connectors
from connectors.landing import ensure_raw_tables
from connectors.privacy import PrivacyGate
from sandbox import world as w

NETWORKS = ("mastodon", "bluesky")  # the scale world is written straight into these two networks' raw tables
# posts_per_day 0.3 gives ~1.1 interactions (all kinds, incl. mentions) per person per day:
# 10k persons -> ~11k interactions/day -> ~1M over 90 days.
SIZES = {
    "small": dict(persons=10_000, days=90, posts_per_day=0.3),
    "medium": dict(persons=100_000, days=90, posts_per_day=0.3),
    "large": dict(persons=1_000_000, days=90, posts_per_day=0.3),
}
DEFAULT_END = date(2026, 3, 31)
PSEUDONYM_SALT = "open-klout"  # the development default of KLOUT_PSEUDONYM_SALT (orchestration/definitions.py)


@dataclass(frozen=True)
class BenchWorld:
    persons: int
    days: int
    posts_per_day: float = 0.3
    end_date: date = DEFAULT_END
    seed: int = 7

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    def config(self) -> w.WorldConfig:
        return w.WorldConfig(
            seed=self.seed,
            persons=self.persons,
            days=self.days,
            posts_per_day=self.posts_per_day,
            end_date=self.end_date,
        )


# The privacy gate of connectors/privacy.py, applied as landing applies it: excluded accounts
# (opted-out persons, private accounts without their owner's consent) are never fetched, so
# their posts, snapshots and mentions never land and reactions *to* them are dropped; reactions
# *by* them still land, under `PrivacyGate.pseudonym` and with an empty payload.
_GATED_REACTIONS = """
    with gated as (
        select r.network, r.post_id, r.target_account_id, r.reaction_type, r.created_at, r.carrier_post_id,
            a.excluded as reactor_excluded, a.handle, a.display_name,
            case when a.excluded then a.pseudonym else r.reactor_account_id end as reactor_account_id
        from day_reactions as r
        join bench_accounts as a on a.network = r.network and a.account_id = r.reactor_account_id
        join bench_accounts as t on t.network = r.network and t.account_id = r.target_account_id
        where r.network = '{network}' and r.created_at <= ? and not t.excluded
          and not (a.excluded and r.reaction_type = 'mention')
    )
"""
_REACTIONS_SQL = {
    "mastodon": _GATED_REACTIONS.format(network="mastodon")
    + """
        select r.network, r.post_id, r.target_account_id, r.reactor_account_id, r.reaction_type,
            case when r.reaction_type in ('favourite', 'reblog') then null else r.created_at end as reacted_at,
            case when r.reaction_type = 'mention' then r.reactor_account_id else r.target_account_id end as source_account_id,
            cast(timezone('UTC', r.created_at) as date) as partition_day,
            now() as fetched_at,
            case
                when r.reactor_excluded then '{}'
                when r.reaction_type in ('favourite', 'reblog') then
                    json_object('id', r.reactor_account_id, 'acct', r.handle, 'username', r.handle,
                                'display_name', r.display_name)
                when r.reaction_type = 'reply' then
                    json_object('id', r.carrier_post_id, 'in_reply_to_id', r.post_id,
                                'account', json_object('id', r.reactor_account_id, 'acct', r.handle))
                else
                    json_object('id', r.post_id,
                                'account', json_object('id', r.reactor_account_id, 'acct', r.handle),
                                'mentions', json_array(json_object('id', r.target_account_id)))
            end as payload
        from gated as r
    """,
    "bluesky": _GATED_REACTIONS.format(network="bluesky")
    + """
        select r.network, r.post_id, r.target_account_id, r.reactor_account_id, r.reaction_type,
            r.created_at as reacted_at,
            case when r.reaction_type = 'mention' then r.reactor_account_id else r.target_account_id end as source_account_id,
            cast(timezone('UTC', r.created_at) as date) as partition_day,
            now() as fetched_at,
            case
                when r.reactor_excluded then '{}'
                when r.reaction_type = 'like' then
                    json_object('actor', json_object('did', r.reactor_account_id, 'handle', r.handle),
                                'createdAt', strftime(r.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'),
                                'indexedAt', strftime(r.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
                when r.reaction_type = 'repost' then
                    json_object('did', r.reactor_account_id, 'handle', r.handle, 'displayName', r.display_name)
                else
                    json_object('uri', coalesce(r.carrier_post_id, r.post_id),
                                'author', json_object('did', r.reactor_account_id, 'handle', r.handle),
                                'record', json_object('$type', 'app.bsky.feed.post', 'text', ''))
            end as payload
        from gated as r
    """,
}

_POSTS_SQL = {
    "mastodon": """
        select network, post_id, account_id, created_at, cast(timezone('UTC', created_at) as date), now(),
            json_object('id', post_id, 'content', '<p>' || text || '</p>', 'language', 'en',
                        'in_reply_to_id', reply_to_post_id, 'favourites_count', 0, 'reblogs_count', 0)
        from day_posts where network = 'mastodon'
            and account_id not in (select account_id from bench_accounts where network = 'mastodon' and excluded)
    """,
    "bluesky": """
        select network, post_id, account_id, created_at, cast(timezone('UTC', created_at) as date), now(),
            case
                when kind = 'reply' then json_object('uri', post_id, 'cid', cid, 'record', json_object(
                    '$type', 'app.bsky.feed.post', 'text', text, 'langs', json_array('en'),
                    'reply', json_object('parent', json_object('uri', reply_to_post_id))))
                when kind = 'quote' then json_object('uri', post_id, 'cid', cid, 'record', json_object(
                    '$type', 'app.bsky.feed.post', 'text', text, 'langs', json_array('en'),
                    'embed', json_object('$type', 'app.bsky.embed.record', 'record', json_object('uri', quote_of_post_id))))
                else json_object('uri', post_id, 'cid', cid, 'record', json_object(
                    '$type', 'app.bsky.feed.post', 'text', text, 'langs', json_array('en')))
            end
        from day_posts where network = 'bluesky'
            and account_id not in (select account_id from bench_accounts where network = 'bluesky' and excluded)
    """,
}

_ACCOUNTS_SQL = {
    "mastodon": """
        select 'mastodon', a.account_id, a.handle, d.day, now(),
            json_object('id', a.account_id, 'acct', a.handle, 'username', a.handle, 'display_name', a.display_name,
                        'followers_count', a.followers_count, 'following_count', a.following_count,
                        'statuses_count', a.base_statuses, 'locked', a.is_private)
        from bench_accounts as a, (select unnest(?::date[]) as day) as d where a.network = 'mastodon' and not a.excluded
    """,
    "bluesky": """
        select 'bluesky', a.account_id, a.handle, d.day, now(),
            json_object('did', a.account_id, 'handle', a.handle, 'displayName', a.display_name,
                        'followersCount', a.followers_count, 'followsCount', a.following_count,
                        'postsCount', a.base_statuses)
        from bench_accounts as a, (select unnest(?::date[]) as day) as d where a.network = 'bluesky' and not a.excluded
    """,
}


_KPLUS_SQL = """
    select give_id, giver_person_id, recipient_person_id, topic_slug, given_at, ?::date, now(),
        json_object('give_id', give_id, 'giver_person_id', giver_person_id, 'recipient_person_id', recipient_person_id,
                    'topic_slug', topic_slug, 'given_at', strftime(given_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
    from day_kplus
"""
_EDITS_SQL = """
    select edit_id, person_id, editor_person_id, topic_slug, action, edited_at, ?::date, now(),
        json_object('edit_id', edit_id, 'person_id', person_id, 'editor_person_id', editor_person_id,
                    'topic_slug', topic_slug, 'action', action, 'edited_at', strftime(edited_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
    from day_edits
"""
# the platform lists every campaign started by the clock's day, so each partition holds them all
_CAMPAIGNS_SQL = """
    select campaign_id, ?::date, now(),
        json_object('campaign_id', campaign_id, 'brand', brand, 'title', title, 'topics', topics,
                    'min_score', min_score, 'locations', locations, 'starts_on', strftime(starts_on, '%Y-%m-%d'),
                    'ends_on', strftime(ends_on, '%Y-%m-%d'), 'capacity', capacity)
    from bench_campaigns where starts_on <= ?::date
"""


def profiles_of(persons: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Registered profiles as the platform API serves them: private when a linked account is."""
    private = set(accounts.loc[accounts.is_private, "person_id"])
    reg = persons.loc[
        persons.registered, ["person_id", "display_name", "birth_date", "location", "opted_out", "private_consent"]
    ].copy()
    reg["is_private"] = reg["person_id"].isin(private)
    reg["private_consent"] = reg["is_private"] & reg["private_consent"]
    return reg


def gate_accounts(persons: pd.DataFrame, accounts: pd.DataFrame, salt: str = PSEUDONYM_SALT) -> pd.DataFrame:
    """Accounts with `excluded` (never fetched: an opted-out owner, or private without consent) and the
    pseudonym their reactions land under (connectors.privacy.PrivacyGate)."""
    owner = accounts[["person_id"]].merge(
        persons[["person_id", "registered", "opted_out", "private_consent"]], on="person_id", how="left"
    )
    consented = (owner["registered"] & owner["private_consent"]).to_numpy(dtype=bool)
    excluded = owner["opted_out"].to_numpy(dtype=bool) | (accounts["is_private"].to_numpy(dtype=bool) & ~consented)
    out = accounts.assign(excluded=excluded, pseudonym=None)
    gates = {n: PrivacyGate(n, salt=salt) for n in out["network"].unique()}
    out.loc[excluded, "pseudonym"] = [
        gates[n].pseudonym(a) for n, a in zip(out.loc[excluded, "network"], out.loc[excluded, "account_id"])
    ]
    return out


def write_world(path: str, spec: BenchWorld, log=print) -> dict:
    """Generate `spec` into a fresh warehouse at `path`; returns row counts and timings."""
    t0 = time.perf_counter()
    cfg = spec.config()
    persons, person_topics = w._persons(cfg)
    accounts = w._accounts(cfg, persons)
    consenting = w._alternate_private_consent(persons, accounts)  # as build_world does, after the day draws
    links = w._profile_links(consenting, accounts)
    registered = profiles_of(consenting, accounts)
    accounts_gated = gate_accounts(consenting, accounts)
    end_ts = pd.Timestamp(w.end_of_day(spec.end_date))
    counts = {"reactions": 0, "posts": 0, "kplus_gives": 0, "topic_edits": 0, "campaigns": 0, "campaign_rows": 0}
    with duckdb.connect(path) as conn:
        ensure_raw_tables(conn, connectors.NETWORKS)  # every network's tables (dbt unions them all); two are filled
        bench_accounts = accounts_gated.drop(columns=["_person_idx", "created_at"])
        conn.register("bench_accounts_df", bench_accounts)
        conn.execute("create or replace temp table bench_accounts as select * from bench_accounts_df")
        conn.unregister("bench_accounts_df")
        conn.execute("""create or replace temp table bench_campaigns (campaign_id varchar, brand varchar, title varchar,
                        topics varchar[], min_score integer, locations varchar[], starts_on date, ends_on date,
                        capacity integer)""")
        first = spec.start_date
        for i in range(spec.days):
            day = first + timedelta(days=i)
            posts, reactions, kplus, campaigns, edits = w._Day(cfg, persons, person_topics, accounts, day).build()
            posts = posts.drop(columns=["mentions", "topic_slug"])
            reactions = reactions[
                [
                    "network",
                    "post_id",
                    "target_account_id",
                    "reactor_account_id",
                    "reaction_type",
                    "created_at",
                    "carrier_post_id",
                ]
            ]
            conn.register("day_posts", posts)
            conn.register("day_reactions", reactions)
            conn.register("day_kplus", kplus)
            conn.register("day_edits", edits)
            conn.execute("begin")
            for net in NETWORKS:
                conn.execute(f"insert into raw.{net}_posts {_POSTS_SQL[net]}")
                conn.execute(f"insert into raw.{net}_reactions select * from ({_REACTIONS_SQL[net]})", [end_ts])
            if len(campaigns):
                conn.register("day_campaigns", campaigns)
                conn.execute(
                    "insert into bench_campaigns select campaign_id, brand, title, topics, min_score, locations,"
                    " starts_on, ends_on, capacity from day_campaigns"
                )
                conn.unregister("day_campaigns")
            if len(kplus):
                conn.execute(f"insert into raw.platform_kplus {_KPLUS_SQL}", [day])
            if len(edits):
                conn.execute(f"insert into raw.platform_topic_edits {_EDITS_SQL}", [day])
            counts["campaign_rows"] += conn.execute(
                f"insert into raw.platform_campaigns {_CAMPAIGNS_SQL}", [day, day]
            ).fetchone()[0]
            conn.execute("commit")
            for name in ("day_posts", "day_reactions", "day_kplus", "day_edits"):
                conn.unregister(name)
            counts["kplus_gives"] += len(kplus)
            counts["topic_edits"] += len(edits)
            counts["campaigns"] += len(campaigns)
        all_days = [first + timedelta(days=i) for i in range(spec.days)]
        for net in NETWORKS:
            conn.execute(f"insert into raw.{net}_accounts {_ACCOUNTS_SQL[net]}", [all_days])
        conn.register("reg_df", registered)
        conn.register("links_df", links)
        # opted-out profiles keep only their id and the opt-out (orchestration.forgetting)
        conn.execute(
            """
            insert into raw.platform_profiles
            select person_id,
                   case when not opted_out then display_name end,
                   case when not opted_out then birth_date end,
                   case when not opted_out then location end,
                   opted_out, is_private, private_consent, ?::date, now(),
                   case when opted_out then '{}' else json_object('id', person_id, 'display_name', display_name) end
            from reg_df""",
            [first],
        )
        conn.execute(
            """
            insert into raw.platform_links
            select person_id, network, handle, ?::date, now(),
                   json_object('person_id', person_id, 'network', network, 'handle', handle)
            from links_df""",
            [first],
        )
        for kind in ("reactions", "posts"):
            counts[kind] = conn.execute(
                "select " + " + ".join(f"(select count(*) from raw.{n}_{kind})" for n in NETWORKS)
            ).fetchone()[0]
        counts["accounts"] = len(accounts)
        counts["excluded_accounts"] = int(accounts_gated["excluded"].sum())
        counts["registered_persons"] = len(registered)
        conn.execute("checkpoint")
    counts["seconds"] = round(time.perf_counter() - t0, 3)
    log(
        f"world {spec.persons} persons x {spec.days} days: {counts['reactions']:,} interactions, "
        f"{counts['posts']:,} posts in {counts['seconds']:.1f}s"
    )
    return counts


# the day column of each mart the daily job writes (dbt marts and the Python assets downstream)
DAY_COLUMNS = ("day", "as_of_day", "given_day")


def truncate_history(path: str, last_day: date) -> None:
    """Drop raw rows landed after `last_day` and mart rows from `last_day` on (a warehouse as of that day)."""
    with duckdb.connect(path) as conn:
        for net in NETWORKS:
            for kind in ("accounts", "posts", "reactions"):
                conn.execute(f"delete from raw.{net}_{kind} where partition_day > ?", [last_day])
        for kind in ("kplus", "topic_edits", "campaigns"):
            conn.execute(f"delete from raw.platform_{kind} where partition_day > ?", [last_day])
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name in (select table_name from"
            " information_schema.tables where table_schema = 'marts' and table_type = 'BASE TABLE')"
            " order by table_name, ordinal_position"
        ).fetchall()
        day_column: dict[str, str] = {}
        for table, column in columns:
            if column in DAY_COLUMNS and table not in day_column:
                day_column[table] = column
        for table, column in sorted(day_column.items()):
            conn.execute(f"delete from marts.{table} where {column} >= ?", [last_day])
        conn.execute("checkpoint")


def interactions_between(path: str, first: date, last: date) -> int:
    with duckdb.connect(path, read_only=True) as conn:
        parts = [f"(select count(*) from raw.{n}_reactions where partition_day between $1 and $2)" for n in NETWORKS]
        return conn.execute("select " + " + ".join(parts), [first, last]).fetchone()[0]
