"""A tiny warehouse with the real table shapes (copied from a materialised dev warehouse), clean.

Each test copies it and injects one fault. Partition day: 2026-11-20. Every registered network gets
its raw tables; the rows of HAND_WRITTEN networks are in ROWS (tests refer to them by value), every
other network's come from its SPEC (spec_rows), so adding a network needs nothing here.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, time

import duckdb
import pytest

from connectors import NETWORKS
from connectors.registry import NetworkSpec

DAY = date(2026, 11, 20)
FETCHED_AT = datetime(2026, 11, 21, 0, 5, tzinfo=UTC)
# Their rows are written out in ROWS: tests inject faults into them and name them by value
# (mastodon '101', '102', '9001', '9002'; bluesky did:plc:a and its post).
HAND_WRITTEN = ("mastodon", "bluesky")

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


def _payload_with(paths: list[str], value: int) -> dict:
    """A JSON object in which each of `paths` (a plain field name or "$.a.b") holds `value`."""
    payload: dict = {}
    for path in paths:
        *parents, leaf = path.removeprefix("$.").split(".")
        node = payload
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return payload


def spec_rows(spec: NetworkSpec) -> dict[str, list[tuple]]:
    """Clean rows for `spec`'s raw tables, from the SPEC alone, which its raw GX suites
    (expectations/suites/network/, filled from the same SPEC) accept: an account whose payload holds
    every `account_counts` field, a post created inside DAY, a reaction of its first reaction word
    and, when the API only counts some words, a positive total of the first of them."""
    n = spec.name
    account, reactor, post = f"{n}-1", f"{n}-2", f"{n}-post-1"
    posted, reacted = (datetime.combine(DAY, time(hour), tzinfo=UTC) for hour in (9, 10))
    payload = json.dumps({"id": account, **_payload_with(list(spec.account_counts.values()), 7)})
    rows = {
        "accounts": [(n, account, "ada", DAY, FETCHED_AT, payload)],
        "posts": [(n, post, account, posted, DAY, FETCHED_AT, json.dumps({"id": post}))],
        "reactions": [(n, post, account, reactor, spec.reaction_types[0], reacted, account, DAY, FETCHED_AT, "{}")],
        "counts": [],
    }
    if spec.anonymous_counts:
        rows["counts"] = [(n, post, account, spec.anonymous_counts[0], 12, DAY, FETCHED_AT, json.dumps({"count": 12}))]
    return rows


def build_clean(path: str) -> None:
    conn = duckdb.connect(path)
    try:
        conn.execute(SCHEMAS)
        for n, spec in NETWORKS.items():  # every registered network's raw tables
            conn.execute(NETWORK_TABLES.format(n=n))
            if n in HAND_WRITTEN:
                continue
            for table, rows in spec_rows(spec).items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    conn.executemany(f"insert into raw.{n}_{table} values ({marks})", rows)
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
