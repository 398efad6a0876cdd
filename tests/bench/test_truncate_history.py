"""The growth curve's warehouses "as of a day" (`truncate_history`): nothing a run of that day or later
wrote may survive, or the day's run finds later state and redoes its window (a cost no daily run pays)."""

from datetime import timedelta

import duckdb

from tests.bench.worldgen import DEFAULT_END, BenchWorld, truncate_history, windowed_models, write_world

CUT = DEFAULT_END - timedelta(days=2)


def test_the_windowed_models_are_read_from_their_pre_hooks():
    windowed = windowed_models()
    assert windowed["intermediate.int_feature_sums"] == "as_of_day"
    assert windowed["intermediate.int_engagement_events"] == "first_seen_day"
    assert windowed["marts.fct_features_90d"] == "as_of_day"
    assert not any(table.startswith("staging.") for table in windowed)  # views: nothing held


def test_truncating_drops_what_runs_of_the_day_and_later_wrote_and_keeps_the_rest(tmp_path):
    path = str(tmp_path / "w.duckdb")
    write_world(path, BenchWorld(persons=300, days=5, end_date=DEFAULT_END), log=lambda *_: None)
    days = [DEFAULT_END - timedelta(days=i) for i in range(5)]
    with duckdb.connect(path) as conn:
        for schema in ("intermediate", "marts", "cache"):
            conn.execute(f"create schema if not exists {schema}")
        # an event of an early day first seen late: its landing day, not its event day, decides
        conn.execute("create table intermediate.int_engagement_events (event_day date, first_seen_day date)")
        conn.execute("create table intermediate.int_feature_sums (as_of_day date)")
        conn.execute("create table marts.scores (person_id varchar, day date)")
        conn.execute("create table cache.engagement_days (day date, events bigint)")
        conn.execute("create table cache.engagement_persons (person varchar, number integer)")
        for day in days:
            conn.execute("insert into intermediate.int_engagement_events values (?, ?)", [days[-1], day])
            conn.execute("insert into intermediate.int_feature_sums values (?)", [day])
            conn.execute("insert into marts.scores values ('p', ?)", [day])
            conn.execute("insert into cache.engagement_days values (?, 1)", [day])
        conn.execute("insert into cache.engagement_persons values ('p', 0)")
        landed_before = conn.execute("select count(*) from raw.mastodon_reactions where partition_day <= ?", [CUT])
        landed_before = landed_before.fetchone()[0]

    truncate_history(path, CUT)

    with duckdb.connect(path, read_only=True) as conn:
        latest = {
            table: conn.execute(f"select max({column}), count(*) from {table}").fetchone()
            for table, column in [
                ("raw.mastodon_reactions", "partition_day"),
                ("intermediate.int_engagement_events", "first_seen_day"),
                ("intermediate.int_feature_sums", "as_of_day"),
                ("marts.scores", "day"),
                ("cache.engagement_days", "day"),
            ]
        }
        kept_persons = conn.execute("select count(*) from cache.engagement_persons").fetchone()[0]
    assert latest["raw.mastodon_reactions"] == (CUT, landed_before)  # the day's own landing stays
    for table in ("intermediate.int_engagement_events", "intermediate.int_feature_sums", "marts.scores"):
        assert latest[table] == (CUT - timedelta(days=1), 2), table
    assert latest["cache.engagement_days"] == (CUT - timedelta(days=1), 2)
    assert kept_persons == 1  # a dictionary, not a day's rows

    truncate_history(path, CUT, ran_through=CUT - timedelta(days=2))  # the growth curve's: the day before re-runs

    with duckdb.connect(path, read_only=True) as conn:
        assert conn.execute("select max(as_of_day) from intermediate.int_feature_sums").fetchone()[
            0
        ] == CUT - timedelta(days=2)
        assert conn.execute("select max(partition_day) from raw.mastodon_reactions").fetchone()[0] == CUT
