"""int_feature_sums carries a daily run forward from the day before (what enters and leaves the
window) instead of re-reading the window; these tests hold it to the full-window SQL a backfill
runs: the same rows, day after day, with days leaving a short window, reactions landing days after
they happened, and persons missing a day. Late reactions make a backfill differ from daily runs
upstream (fct_engagement_daily counts a day's reactions as landed by its run), so the carried
days are compared with daily runs that recompute the full window (carry_forward_features: false)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import materialize
from dagster_duckdb import DuckDBResource
from dbt.cli.main import dbtRunner
from jinja2 import Environment

from orchestration.assets.topics import person_topics
from orchestration.dbt_inprocess import _release_warehouse
from orchestration.dbt_project import DBT_PROJECT_DIR
from orchestration.forgetting import WarehousePrivacy
from orchestration.keys import PERSON_TOPICS
from orchestration.warehouse import TopicStateStore
from tests.bench.worldgen import BenchWorld, write_world

END = date(2026, 3, 31)
DAYS = 6
EPOCH = "2024-01-01"  # vars.decay_epoch
FIRST = END - timedelta(days=DAYS - 1)
WINDOW = {"window_days": 3, "half_life_days": 2}  # short, so days leave the window within the world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A small bench world, roughed up: some reactions land one or two days after they happened,
    and a third of the Mastodon accounts miss a snapshot on one day."""
    path = tmp_path_factory.mktemp("feature_carry") / "world.duckdb"
    write_world(str(path), BenchWorld(persons=200, days=DAYS, end_date=END), log=lambda *_: None)
    with duckdb.connect(str(path)) as conn:
        for network in ("mastodon", "bluesky"):
            conn.execute(
                f"update raw.{network}_reactions"
                " set partition_day = partition_day + 1 + cast(hash(post_id) % 2 as integer)"
                " where reacted_at is not null and hash(reactor_account_id, post_id) % 3 = 0 and partition_day < ?",
                [END - timedelta(days=1)],
            )
        conn.execute(
            "delete from raw.mastodon_accounts where partition_day = ? and hash(account_id) % 3 = 0",
            [FIRST + timedelta(days=3)],
        )
    return path


def dbt_run(warehouse: Path, target: Path, first: date, last: date, monkeypatch, carry: bool = True) -> None:
    monkeypatch.setenv("KLOUT_WAREHOUSE", str(warehouse))
    vars_ = {"min_date": first.isoformat(), "max_date": last.isoformat(), "carry_forward_features": carry, **WINDOW}
    result = dbtRunner().invoke(
        [
            "run",
            "--select",
            "+fct_features_90d",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--vars",
            json.dumps(vars_),
            "--quiet",
        ]
    )
    assert result.success, result.exception


def rows(warehouse: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse)) as conn:  # as dbt in this process holds it open
        return conn.execute(f"select * from {table} order by person_id, network, as_of_day").df()


def daily_runs(world: Path, tmp: Path, name: str, carry: bool, mp, forget_after: int | None = None):
    """One run per day on a copy of `world`; per day, whether int_feature_sums took the carried path.
    With `forget_after`, after that many days a reactor opts out and is forgotten (pseudonymised)."""
    warehouse, target = tmp / f"{name}.duckdb", tmp / f"target_{name}"
    shutil.copyfile(world, warehouse)
    carried = []
    for i in range(DAYS):
        if i == forget_after:
            forget_an_early_reactor(warehouse)
        day = FIRST + timedelta(days=i)
        dbt_run(warehouse, target, day, day, mp, carry)
        compiled = next((target / "compiled").rglob("int_feature_sums.sql")).read_text()
        carried.append("with today as (" in compiled)
    return warehouse, carried


def forget_an_early_reactor(warehouse: Path) -> str:
    """The unregistered reactor with the most reactions on the first day, forgotten as an opt-out
    is: their reactions stay, under a pseudonym (orchestration.forgetting)."""
    with duckdb.connect(str(warehouse)) as conn:
        (reactor,) = conn.execute(
            "select reactor_person_id from intermediate.int_reactor_days where event_day = ?"
            " and reactor_person_id like '%:%' group by 1 order by sum(reactions) desc, 1 limit 1",
            [FIRST],
        ).fetchone()
        registry = WarehousePrivacy(conn, "salt")
        registry.purge(registry.identified({reactor: "opted_out"}))
    return reactor


@pytest.fixture(scope="module")
def built(world, tmp_path_factory):
    """The world one day at a time, carried forward and recomputed in full; after two days a
    reactor is forgotten, so the carried audience must lose them exactly when the recomputed one
    does (forgetting pseudonymises them in int_reactor_days as in int_engagement_events)."""
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("feature_carry_runs")
    carried = daily_runs(world, tmp, "carried", True, mp, forget_after=2)
    full = daily_runs(world, tmp, "full", False, mp, forget_after=2)
    mp.undo()
    return carried, full


def test_daily_runs_carry_forward_after_the_first_day_unless_told_not_to(built):
    (_, carried), (_, full) = built
    assert carried == [False] + [True] * (DAYS - 1)
    assert full == [False] * DAYS


def test_carried_days_equal_the_full_window(built):
    (carried, _), (full, _) = built
    recomputed, days = rows(full, "marts.fct_features_90d"), rows(carried, "marts.fct_features_90d")
    assert len(recomputed) > 0 and (recomputed.as_of_day.nunique() == DAYS)
    # the window moved: reactors and activity left it, so the carry subtracted something
    assert (recomputed.groupby(["person_id", "network"]).engaged_audience_90d.diff() < 0).any()
    pd.testing.assert_frame_equal(recomputed, days)


def test_carried_state_equals_the_full_window_state(built):
    (carried, _), (full, _) = built
    recomputed, days = rows(full, "intermediate.int_feature_sums"), rows(carried, "intermediate.int_feature_sums")
    lifted = [c for c in recomputed.columns if c.startswith("lifted_")]
    pd.testing.assert_frame_equal(recomputed.drop(columns=lifted), days.drop(columns=lifted))
    # the unrounded sums carried in floating point agree to the last digits, in as_of_day's units
    # (lifted sums grow as 2^(days / half_life): compare them as the decayed values they give)
    as_of_lift = 2.0 ** ((recomputed.as_of_day - pd.Timestamp(EPOCH)).dt.days / WINDOW["half_life_days"])
    pd.testing.assert_frame_equal(
        recomputed[lifted].div(as_of_lift, axis=0), days[lifted].div(as_of_lift, axis=0), rtol=0, atol=1e-12
    )


def dbt_macro(name: str):
    """A dbt macro of the project that needs no dbt context, rendered with plain Jinja."""
    return getattr(Environment().from_string((DBT_PROJECT_DIR / "macros" / "window.sql").read_text()).module, name)


def test_ordered_sum_of_doubles_is_the_same_to_the_last_bit_in_any_row_order():
    """Re-materialising a partition gives identical output, so the lifted audience (a sum of doubles
    per person, network and day) must not depend on the order DuckDB reads or aggregates its rows
    in. One thread adds a group's rows in the order they are stored: a plain sum differs between
    two orders, `ordered_sum` does not."""
    rng = np.random.default_rng(20)
    groups, per_group = 2_000, 12
    values = pd.DataFrame(
        {
            "g": np.repeat(np.arange(groups), per_group),
            # lifts of a 90-day window, signed as a stint's start and end are
            "x": 2.0 ** (rng.integers(800, 1_000, groups * per_group) / 30)
            * rng.choice([-1.0, 1.0], groups * per_group),
        }
    )
    ordered_sum = dbt_macro("ordered_sum")("x")
    sums = []
    with duckdb.connect() as conn:
        conn.execute("set threads = 1")
        for frame in (values, values.iloc[::-1]):
            conn.register("frame", frame)
            conn.execute("create or replace table stored as select * from frame")
            query = f"select g, sum(x) as plain, {ordered_sum} as ordered from stored group by g order by g"
            sums.append(conn.execute(query).df())
    assert (sums[0]["plain"] != sums[1]["plain"]).any()  # the problem is real for a plain sum
    pd.testing.assert_series_equal(sums[0]["ordered"], sums[1]["ordered"], check_exact=True)
    np.testing.assert_allclose(sums[0]["ordered"], sums[0]["plain"], rtol=0, atol=1e-3)  # and it is the sum


def topics_day(warehouse: Path, day: date) -> tuple[str, pd.DataFrame]:
    """person_topics for `day` on `warehouse`: how it made its evidence, and the day's rows."""
    result = materialize(
        [person_topics], partition_key=day.isoformat(), resources={"duckdb": DuckDBResource(database=str(warehouse))}
    )
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == PERSON_TOPICS]
    with duckdb.connect(str(warehouse)) as conn:
        made = conn.execute("select * from marts.person_topics where day = ? order by all", [day]).df()
    return event.step_materialization_data.materialization.metadata["evidence"].value, made


def test_carried_topics_count_late_reactions_as_each_days_whole_window_does(world, tmp_path, monkeypatch):
    """person_topics carried day by day through reactions that land a day or two late equals, each
    day, that day's whole-window read of the same warehouse: a late reaction is counted the day it
    lands, whichever day it happened."""
    warehouse, whole = tmp_path / "daily.duckdb", tmp_path / "whole.duckdb"
    shutil.copyfile(world, warehouse)
    monkeypatch.setenv("KLOUT_WAREHOUSE", str(warehouse))
    inputs = "+int_post_engagement +int_engagement_events +stg_platform__profiles +stg_platform__topic_edits"
    modes = []
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        vars_ = json.dumps({"min_date": day.isoformat(), "max_date": day.isoformat()})
        args = ["run", "--select", *inputs.split(), "--project-dir", str(DBT_PROJECT_DIR)]
        args += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--vars", vars_]
        assert dbtRunner().invoke([*args, "--quiet"]).success
        _release_warehouse()  # as a run does between dbt and the assets
        mode, carried = topics_day(warehouse, day)
        modes.append(mode)
        shutil.copyfile(warehouse, whole)
        with duckdb.connect(str(whole)) as conn:
            TopicStateStore.drop(conn)
        assert topics_day(whole, day)[0] == "whole window"
        pd.testing.assert_frame_equal(carried, topics_day(whole, day)[1], obj=f"person_topics on {day}")
        assert len(carried) > 0
    assert modes == ["whole window"] + ["carried"] * (DAYS - 1)
    with duckdb.connect(str(warehouse)) as conn:
        late = "select count(*) from intermediate.int_engagement_events where first_seen_day > event_day"
        assert conn.execute(late).fetchall()[0][0] > 0  # the carry met reactions that landed late
