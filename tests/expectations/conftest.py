"""A tiny warehouse with the real table shapes (copied from a materialised dev warehouse), clean.

Each test copies it and injects one fault. Partition day: 2026-11-20.
"""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from connectors import NETWORKS

DAY = date(2026, 11, 20)

SCHEMAS = "create schema raw; create schema staging; create schema intermediate; create schema marts;"
NETWORK_TABLES = """
create table raw.{n}_accounts (network varchar, account_id varchar, handle varchar, partition_day date, fetched_at timestamptz, payload json);
create table raw.{n}_posts (network varchar, post_id varchar, account_id varchar, created_at timestamptz, partition_day date, fetched_at timestamptz, payload json);
create table raw.{n}_reactions (network varchar, post_id varchar, target_account_id varchar, reactor_account_id varchar, reaction_type varchar,
    reacted_at timestamptz, source_account_id varchar, partition_day date, fetched_at timestamptz, payload json);
create table raw.{n}_counts (network varchar, post_id varchar, account_id varchar, reaction_type varchar, total bigint,
    partition_day date, fetched_at timestamptz, payload json);
"""
TABLES = """
create table staging.stg_platform__profiles (person_id varchar, display_name varchar, birth_date date, location varchar, opted_out boolean,
    is_private boolean, private_consent boolean, snapshot_day date);
create table intermediate.int_identity (network varchar, account_key varchar, handle varchar, person_id varchar, is_registered boolean);
create table marts.dim_persons (person_id varchar, display_name varchar, is_registered boolean, networks bigint);
create table marts.fct_engagement_daily (person_id varchar, network varchar, day date, posts_made bigint, likes bigint, replies bigint, reshares bigint,
    quotes bigint, mentions bigint, reactions_received bigint, unique_reactors bigint, selectivity_weighted_reactions double,
    anonymous_reactions bigint, views bigint, followers hugeint);
create table marts.fct_features_90d (person_id varchar, network varchar, as_of_day date, engaged_audience_90d bigint, decayed_engaged_audience double,
    decayed_reactions double, decayed_posts double, reactions_per_post double, unique_reactor_share double, selectivity_weighted_engagement double,
    decayed_anonymous_reactions double, decayed_views double,
    activity double, reactions_90d hugeint, posts_90d hugeint, audience_size hugeint, days_since_active bigint);
create table marts.scores (person_id varchar, day date, formula_version varchar, score double, strength double);
create table marts.topic_leaderboards (day date, topic_slug varchar, person_id varchar, topic_score double, kplus_count bigint, rank_influence bigint,
    rank_kplus bigint, sash varchar, formula_version varchar);
create table marts.perk_eligibility (campaign_id varchar, person_id varchar, display_name varchar, rank bigint, day date, formula_version varchar);
"""
ROWS = """
insert into raw.mastodon_accounts values
  ('mastodon', '101', 'ada', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "101", "followers_count": 137, "following_count": 169, "statuses_count": 1452}'),
  ('mastodon', '102', 'bob', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "102", "followers_count": 0, "following_count": 3, "statuses_count": 10}');
insert into raw.bluesky_accounts values
  ('bluesky', 'did:plc:a', 'ada.bsky.social', '2026-11-20', '2026-11-21 00:05:00+00', '{"did": "did:plc:a", "followersCount": 92, "followsCount": 411, "postsCount": 2500}');
insert into raw.mastodon_posts values
  ('mastodon', '9001', '101', '2026-11-20 09:00:00+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "9001"}'),
  ('mastodon', '9002', '102', '2026-11-20 23:59:00+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "9002"}');
insert into raw.bluesky_posts values
  ('bluesky', 'at://did:plc:a/app.bsky.feed.post/1', 'did:plc:a', '2026-11-20 00:00:01+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"uri": "1"}');
insert into raw.mastodon_reactions values
  ('mastodon', '9001', '101', '102', 'favourite', null, '101', '2026-11-20', '2026-11-21 00:05:00+00', '{}'),
  ('mastodon', '9001', '101', '102', 'reply', '2026-11-20 10:00:00+00', '101', '2026-11-20', '2026-11-21 00:05:00+00', '{}');
insert into raw.bluesky_reactions values
  ('bluesky', 'at://did:plc:a/app.bsky.feed.post/1', 'did:plc:a', 'did:plc:b', 'like', '2026-11-20 11:00:00+00', 'did:plc:a', '2026-11-20', '2026-11-21 00:05:00+00', '{}');
insert into raw.facebook_accounts values
  ('facebook', '204000000000001', 'adabakes', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "204000000000001", "username": "adabakes", "fan_count": 40, "followers_count": 44}');
insert into raw.facebook_posts values
  ('facebook', '204000000000001_9001', '204000000000001', '2026-11-20 08:00:00+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "204000000000001_9001"}');
insert into raw.facebook_reactions values
  ('facebook', '204000000000001_9001', '204000000000001', '204000000000002', 'reaction', null, '204000000000001', '2026-11-20', '2026-11-21 00:05:00+00', '{"type": "LOVE"}');
insert into raw.instagram_accounts values
  ('instagram', '17841400000000042', 'ada_bakes', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "17841400000000042", "followers_count": 81, "follows_count": 9, "media_count": 240}');
insert into raw.instagram_posts values
  ('instagram', '17900000000000001', '17841400000000042', '2026-11-20 12:00:00+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "17900000000000001"}');
insert into raw.instagram_reactions values
  ('instagram', '17900000000000001', '17841400000000042', '17841400000000077', 'comment', '2026-11-20 13:00:00+00', '17841400000000042', '2026-11-20', '2026-11-21 00:05:00+00', '{}');
insert into raw.instagram_counts values
  ('instagram', '17900000000000001', '17841400000000042', 'like', 12, '2026-11-20', '2026-11-21 00:05:00+00', '{"count": 12}');
insert into raw.youtube_accounts values
  ('youtube', 'UCa', 'ada', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "UCa", "statistics": {"subscriberCount": "1200", "videoCount": "31"}}');
insert into raw.youtube_posts values
  ('youtube', 'vidA0000001', 'UCa', '2026-11-20 08:00:00+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "vidA0000001"}');
insert into raw.youtube_reactions values
  ('youtube', 'vidA0000001', 'UCa', 'UCb', 'comment', '2026-11-20 12:00:00+00', 'UCa', '2026-11-20', '2026-11-21 00:05:00+00', '{}');
insert into raw.wikipedia_accounts values
  ('wikipedia', '501', 'Ada', '2026-11-20', '2026-11-21 00:05:00+00', '{"userid": 501, "name": "Ada", "editcount": 1200}');
insert into raw.wikipedia_posts values
  ('wikipedia', '900000010', '501', '2026-11-20 09:15:00+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"revid": 900000010, "new": true}');
insert into raw.wikipedia_reactions values
  ('wikipedia', '900000010', '501', '502', 'thank', '2026-11-20 11:00:00+00', '501', '2026-11-20', '2026-11-21 00:05:00+00', '{}');
insert into raw.x_accounts values
  ('x', '2244994945', 'ada_x', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "2244994945", "username": "ada_x", "protected": false, "public_metrics": {"followers_count": 51, "following_count": 20, "tweet_count": 363, "listed_count": 1}}');
insert into raw.x_posts values
  ('x', '1900000000000000003', '2244994945', '2026-11-20 18:36:15+00', '2026-11-20', '2026-11-21 00:05:00+00', '{"id": "1900000000000000003", "text": "hi"}');
insert into raw.x_reactions values
  ('x', '1900000000000000003', '2244994945', '101', 'retweet', null, '2244994945', '2026-11-20', '2026-11-21 00:05:00+00', '{}'),
  ('x', '1900000000000000003', '2244994945', '103', 'reply', '2026-11-20 20:00:00+00', '2244994945', '2026-11-20', '2026-11-21 00:05:00+00', '{}');
insert into staging.stg_platform__profiles values
  ('p_ada', 'Ada', '1990-05-01', 'Paris', false, false, false, '2026-11-20'),
  ('p_bob', 'Bob', '2008-11-20', 'Oslo', false, false, false, '2026-11-20'),   -- turns 18 on the partition day: an adult
  ('p_kid', 'Kid', '2008-11-21', 'Oslo', false, false, false, '2026-11-20'),   -- 18 tomorrow: a minor
  ('p_out', null, null, null, true, false, false, '2026-11-20');
insert into intermediate.int_identity values
  ('mastodon', 'mastodon:101', 'ada', 'p_ada', true), ('mastodon', 'mastodon:102', 'bob', 'p_bob', true), ('bluesky', 'bluesky:did:plc:a', 'ada.bsky.social', 'p_ada', true);
insert into marts.dim_persons values ('p_ada', 'Ada', true, 2), ('p_bob', 'Bob', true, 1);
insert into marts.fct_engagement_daily values
  ('p_ada', 'mastodon', '2026-11-20', 1, 1, 1, 0, 0, 0, 2, 1, 1.5, 0, 0, 137),
  ('p_bob', 'mastodon', '2026-11-20', 1, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0);
insert into marts.fct_features_90d values
  ('p_ada', 'mastodon', '2026-11-20', 1, 1.0, 1.9, 1.0, 1.9, 0.5, 1.4, 0.0, 0.0, 1.0, 2, 1, 137, 0),
  ('p_bob', 'mastodon', '2026-11-20', 0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0, 1, 0, null);
insert into marts.scores values ('p_ada', '2026-11-20', 'v1', 55.0, 3.2), ('p_bob', '2026-11-20', 'v1', 18.5, 0.0), ('p_kid', '2026-11-20', 'v1', 30.0, 1.0);
insert into marts.topic_leaderboards values
  ('2026-11-20', 'tech', 'p_ada', 55.0, 2, 1, 1, 'blue_and_gold', 'v1'),
  ('2026-11-20', 'tech', 'p_bob', 18.5, 0, 2, null, 'gold', 'v1');
insert into marts.perk_eligibility values ('c1', 'p_ada', 'Ada', 1, '2026-11-20', 'v1'), ('c1', 'p_bob', 'Bob', 2, '2026-11-20', 'v1');
"""


def build_clean(path: str) -> None:
    conn = duckdb.connect(path)
    try:
        conn.execute(SCHEMAS)
        for n in NETWORKS:  # every registered network's raw tables
            conn.execute(NETWORK_TABLES.format(n=n))
        conn.execute(TABLES)
        conn.execute(ROWS)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def clean_template(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("gx_template") / "clean.duckdb")
    build_clean(path)
    return path


@pytest.fixture
def warehouse(clean_template, tmp_path):
    """A fresh copy of the clean warehouse; `warehouse.run(sql)` injects a fault."""
    path = str(tmp_path / "warehouse.duckdb")
    shutil.copy(clean_template, path)

    class Warehouse(str):
        def run(self, sql: str) -> None:
            conn = duckdb.connect(path)
            try:
                conn.execute(sql)
            finally:
                conn.close()

    return Warehouse(path)
