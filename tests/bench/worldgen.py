"""Scale worlds straight into the raw tables of docs/contracts.md (no HTTP, no connectors).

The rows come from the sandbox world generator itself (`connectors/sandbox/world.py`): the same
static population (`_persons`, `_accounts`) and the same per-day draws (`_Day`) that
`build_world` concatenates. We stream it one day at a time instead of calling `build_world`, so
memory stays bounded by one day of content at any scale, and we write each day with one
`INSERT ... SELECT` per table in DuckDB, the JSON payloads built by `json_object(...)` with the
fields staging reads. Ingest semantics are those of an in-order daily landing where every
account is tracked: partition D holds the posts created on D, the reactions created on D
(reactions created after the world's last day are not yet visible and are dropped), and one
profile snapshot per account.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from connectors.landing import ensure_raw_tables
from connectors.sandbox import world as w

NETWORKS = ("mastodon", "bluesky")
# posts_per_day 0.3 gives ~1.1 interactions (all kinds, incl. mentions) per person per day:
# 10k persons -> ~11k interactions/day -> ~1M over 90 days.
SIZES = {
    "small": dict(persons=10_000, days=90, posts_per_day=0.3),
    "medium": dict(persons=100_000, days=90, posts_per_day=0.3),
    "large": dict(persons=1_000_000, days=90, posts_per_day=0.3),
}
DEFAULT_END = date(2026, 3, 31)


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
        return w.WorldConfig(seed=self.seed, persons=self.persons, days=self.days,
                             posts_per_day=self.posts_per_day, end_date=self.end_date)


_REACTIONS_SQL = {
    "mastodon": """
        select r.network, r.post_id, r.target_account_id, r.reactor_account_id, r.reaction_type,
            case when r.reaction_type in ('favourite', 'reblog') then null else r.created_at end as reacted_at,
            case when r.reaction_type = 'mention' then r.reactor_account_id else r.target_account_id end as source_account_id,
            cast(timezone('UTC', r.created_at) as date) as partition_day,
            now() as fetched_at,
            case
                when r.reaction_type in ('favourite', 'reblog') then
                    json_object('id', r.reactor_account_id, 'acct', a.handle, 'username', a.handle,
                                'display_name', a.display_name)
                when r.reaction_type = 'reply' then
                    json_object('id', r.carrier_post_id, 'in_reply_to_id', r.post_id,
                                'account', json_object('id', r.reactor_account_id, 'acct', a.handle))
                else
                    json_object('id', r.post_id,
                                'account', json_object('id', r.reactor_account_id, 'acct', a.handle),
                                'mentions', json_array(json_object('id', r.target_account_id)))
            end as payload
        from day_reactions as r
        join bench_accounts as a on a.account_id = r.reactor_account_id
        where r.network = 'mastodon' and r.created_at <= ?
    """,
    "bluesky": """
        select r.network, r.post_id, r.target_account_id, r.reactor_account_id, r.reaction_type,
            r.created_at as reacted_at,
            case when r.reaction_type = 'mention' then r.reactor_account_id else r.target_account_id end as source_account_id,
            cast(timezone('UTC', r.created_at) as date) as partition_day,
            now() as fetched_at,
            case
                when r.reaction_type = 'like' then
                    json_object('actor', json_object('did', r.reactor_account_id, 'handle', a.handle),
                                'createdAt', strftime(r.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'),
                                'indexedAt', strftime(r.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
                when r.reaction_type = 'repost' then
                    json_object('did', r.reactor_account_id, 'handle', a.handle, 'displayName', a.display_name)
                else
                    json_object('uri', coalesce(r.carrier_post_id, r.post_id),
                                'author', json_object('did', r.reactor_account_id, 'handle', a.handle),
                                'record', json_object('$type', 'app.bsky.feed.post', 'text', ''))
            end as payload
        from day_reactions as r
        join bench_accounts as a on a.account_id = r.reactor_account_id
        where r.network = 'bluesky' and r.created_at <= ?
    """,
}

_POSTS_SQL = {
    "mastodon": """
        select network, post_id, account_id, created_at, cast(timezone('UTC', created_at) as date), now(),
            json_object('id', post_id, 'content', '<p>' || text || '</p>', 'language', 'en',
                        'in_reply_to_id', reply_to_post_id, 'favourites_count', 0, 'reblogs_count', 0)
        from day_posts where network = 'mastodon'
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
    """,
}

_ACCOUNTS_SQL = {
    "mastodon": """
        select 'mastodon', a.account_id, a.handle, d.day, now(),
            json_object('id', a.account_id, 'acct', a.handle, 'username', a.handle, 'display_name', a.display_name,
                        'followers_count', a.followers_count, 'following_count', a.following_count,
                        'statuses_count', a.base_statuses, 'locked', a.is_private)
        from bench_accounts as a, (select unnest(?::date[]) as day) as d where a.network = 'mastodon'
    """,
    "bluesky": """
        select 'bluesky', a.account_id, a.handle, d.day, now(),
            json_object('did', a.account_id, 'handle', a.handle, 'displayName', a.display_name,
                        'followersCount', a.followers_count, 'followsCount', a.following_count,
                        'postsCount', a.base_statuses)
        from bench_accounts as a, (select unnest(?::date[]) as day) as d where a.network = 'bluesky'
    """,
}


def write_world(path: str, spec: BenchWorld, log=print) -> dict:
    """Generate `spec` into a fresh warehouse at `path`; returns row counts and timings."""
    t0 = time.perf_counter()
    cfg = spec.config()
    persons, person_topics = w._persons(cfg)
    accounts = w._accounts(cfg, persons)
    links = w._profile_links(persons, accounts)
    registered = persons.loc[persons.registered]
    end_ts = pd.Timestamp(w.end_of_day(spec.end_date))
    counts = {"reactions": 0, "posts": 0}
    with duckdb.connect(path) as conn:
        ensure_raw_tables(conn, NETWORKS)
        bench_accounts = accounts.drop(columns=["_person_idx", "created_at"])
        conn.register("bench_accounts_df", bench_accounts)
        conn.execute("create or replace temp table bench_accounts as select * from bench_accounts_df")
        conn.unregister("bench_accounts_df")
        first = spec.start_date
        for i in range(spec.days):
            day = first + timedelta(days=i)
            posts, reactions, *_ = w._Day(cfg, persons, person_topics, accounts, day).build()
            posts = posts.drop(columns=["mentions", "topic_slug"])
            reactions = reactions[["network", "post_id", "target_account_id", "reactor_account_id",
                                   "reaction_type", "created_at", "carrier_post_id"]]
            conn.register("day_posts", posts)
            conn.register("day_reactions", reactions)
            conn.execute("begin")
            for net in NETWORKS:
                conn.execute(f"insert into raw.{net}_posts {_POSTS_SQL[net]}")
                conn.execute(f"insert into raw.{net}_reactions {_REACTIONS_SQL[net]}", [end_ts])
            conn.execute("commit")
            conn.unregister("day_posts")
            conn.unregister("day_reactions")
            counts["posts"] += len(posts)
        all_days = [first + timedelta(days=i) for i in range(spec.days)]
        for net in NETWORKS:
            conn.execute(f"insert into raw.{net}_accounts {_ACCOUNTS_SQL[net]}", [all_days])
        conn.register("reg_df", registered[["person_id", "display_name", "birth_date", "location", "opted_out",
                                            "private_consent"]])
        conn.register("links_df", links)
        conn.execute("""
            insert into raw.platform_profiles
            select person_id, display_name, birth_date, location, opted_out, false, private_consent,
                   ?::date, now(), json_object('id', person_id, 'display_name', display_name)
            from reg_df""", [first])
        conn.execute("""
            insert into raw.platform_links
            select person_id, network, handle, ?::date, now(),
                   json_object('person_id', person_id, 'network', network, 'handle', handle)
            from links_df""", [first])
        counts["reactions"] = conn.execute(
            "select (select count(*) from raw.mastodon_reactions) + (select count(*) from raw.bluesky_reactions)"
        ).fetchone()[0]
        counts["accounts"] = len(accounts)
        counts["registered_persons"] = len(registered)
        conn.execute("checkpoint")
    counts["seconds"] = round(time.perf_counter() - t0, 3)
    log(f"world {spec.persons} persons x {spec.days} days: {counts['reactions']:,} interactions, "
        f"{counts['posts']:,} posts in {counts['seconds']:.1f}s")
    return counts


def truncate_history(path: str, last_day: date) -> None:
    """Drop raw rows landed after `last_day` and mart rows from `last_day` on (a warehouse as of that day)."""
    with duckdb.connect(path) as conn:
        for net in NETWORKS:
            for kind in ("accounts", "posts", "reactions"):
                conn.execute(f"delete from raw.{net}_{kind} where partition_day > ?", [last_day])
        marts = {r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        for table, col in (("fct_engagement_daily", "day"), ("fct_features_90d", "as_of_day"), ("scores", "day")):
            if table in marts:
                conn.execute(f"delete from marts.{table} where {col} >= ?", [last_day])
        conn.execute("checkpoint")


def interactions_between(path: str, first: date, last: date) -> int:
    with duckdb.connect(path, read_only=True) as conn:
        parts = [f"(select count(*) from raw.{n}_reactions where partition_day between $1 and $2)" for n in NETWORKS]
        return conn.execute("select " + " + ".join(parts), [first, last]).fetchone()[0]
