"""Formula versions and backfills: a backfill equals daily runs, and a new version is backfilled
beside the active one, compared, and leaves what users see untouched."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
import yaml
from dagster import AssetKey, materialize
from dagster_duckdb import DuckDBResource

from domain.formula import FORMULAS_DIR
from orchestration.assets.topics import person_topics
from orchestration.cli import versioned_ops, versioned_selection
from orchestration.definitions import build_definitions
from orchestration.keys import PERSON_TOPICS
from sandbox.world import WorldConfig, build_world

from .pipeline import SMALL_WORLD, WORLD_END, days, materialize_range, small_social, snapshot


def before_late_changes():
    """The last day before anyone opts out or withdraws consent part-way through the small world.
    A backfill equals daily runs only up to there: after a change, daily runs keep the history
    computed before it (rows naming the person forgotten, everyone else's untouched), while a
    backfill computes it without them from the start (tests/orchestration/test_privacy.py)."""
    persons = build_world(
        WorldConfig(
            seed=7, persons=SMALL_WORLD["sandbox_persons"], days=SMALL_WORLD["sandbox_days"], end_date=WORLD_END
        )
    ).persons
    changes = [d for column in ("opted_out_on", "consent_withdrawn_on") for d in persons[column].dropna()]
    return min(changes) - pd.Timedelta(days=1).to_pytimedelta()


LAST = before_late_changes()
# A week: long enough that daily runs carry features forward and late reactions land on later days,
# short enough that seven full daily runs (landing, dbt, assets, checks) fit make test's budget.
WEEK_DAYS = 7
FIRST = LAST - pd.Timedelta(days=WEEK_DAYS - 1).to_pytimedelta()
WEEK = days(FIRST, WEEK_DAYS)


def warehouse(tmp_path_factory, name, run):
    path = str(tmp_path_factory.mktemp(name) / "warehouse.duckdb")
    mp = pytest.MonkeyPatch()
    mp.setenv("KLOUT_WAREHOUSE", path)
    defs = build_definitions(small_social())
    run(defs)
    return path, defs, mp


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory, dbt_manifest):
    path, defs, mp = warehouse(tmp_path_factory, "backfill", lambda d: materialize_range(d, FIRST, LAST))
    yield path, defs, mp
    mp.undo()


def topics_evidence(result) -> str:
    """How person_topics made its evidence in a run: "carried" from the day before, or "whole window"."""
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == PERSON_TOPICS]
    return events[0].step_materialization_data.materialization.metadata["evidence"].value


DAILY_EVIDENCE: list[str] = []  # person_topics' evidence in each of the daily runs, in order


@pytest.fixture(scope="module")
def daily_runs(tmp_path_factory, dbt_manifest):
    evidence = []

    def daily(defs):
        for day in WEEK:
            evidence.append(topics_evidence(materialize_range(defs, day, day)))

    path, _, mp = warehouse(tmp_path_factory, "daily", daily)
    mp.undo()
    DAILY_EVIDENCE[:] = evidence
    return path


def test_a_week_long_backfill_equals_seven_daily_runs(backfilled, daily_runs):
    one_run, daily = snapshot(backfilled[0]), snapshot(daily_runs)
    assert one_run.keys() == daily.keys()
    assert len(one_run["marts.scores"]) > 0
    for table, frame in one_run.items():
        pd.testing.assert_frame_equal(frame, daily[table], obj=table)
    # the daily runs after the first carried person_topics' evidence, to the same bits
    assert DAILY_EVIDENCE == ["whole window"] + ["carried"] * (WEEK_DAYS - 1)


def test_re_running_the_last_day_carries_again_and_a_state_not_as_written_reads_the_window(daily_runs, tmp_path):
    """The topic state keeps two days, so re-running the latest day carries from the day before
    (twice: the same rows). A state that lost a row (as forgetting a person deletes rows naming
    them), or whose sums cannot be the day before's, is not carried: the day reads its whole
    window, with the same rows."""
    query = "select * from marts.person_topics where day = ? order by all"
    with duckdb.connect(daily_runs, read_only=True) as conn:
        made = conn.execute(query, [LAST]).df()
        assert sorted(d for (d,) in conn.execute("select day from cache.topic_state").fetchall()) == WEEK[-2:]
    assert len(made) > 0
    keys = "cache.topic_state_keys"
    lost_a_row = f"delete from {keys} where person_id = (select min(person_id) from {keys})"
    not_the_sums = f"update {keys} set limb0 = 0, limb1 = 0, limb2 = 0, terms = 0"
    for name, change, expected in (
        ("rerun", None, ["carried", "carried"]),
        ("lost", lost_a_row, ["whole window"]),
        ("stale", not_the_sums, ["whole window"]),
    ):
        path = str(tmp_path / f"{name}.duckdb")
        shutil.copyfile(daily_runs, path)
        if change:
            with duckdb.connect(path) as conn:
                conn.execute(change)
        for mode in expected:
            result = materialize(
                [person_topics], partition_key=LAST.isoformat(), resources={"duckdb": DuckDBResource(database=path)}
            )
            assert topics_evidence(result) == mode, name
            with duckdb.connect(path, read_only=True) as conn:
                pd.testing.assert_frame_equal(conn.execute(query, [LAST]).df(), made, obj=name)


def versioned_tables() -> list[str]:
    from orchestration.definitions import defs

    return sorted(".".join(key.path) for key in versioned_selection().resolve(defs.resolve_asset_graph()))


def versioned_rows(path: str, version: str) -> dict[str, pd.DataFrame]:
    with duckdb.connect(path, read_only=True) as conn:
        return {
            t: conn.execute(f"select * from {t} where formula_version = ? order by all", [version]).df().astype(str)
            for t in versioned_tables()
        }


def test_a_new_version_is_backfilled_beside_the_active_one_and_compared(backfilled, tmp_path):
    path, defs, mp = backfilled
    v1_before = versioned_rows(path, "v1")
    draft = yaml.safe_load((FORMULAS_DIR / "v1.yaml").read_text())
    draft["version"] = "v9"
    draft["subscores"]["network_impact"] *= 3  # the audience's influence now counts three times as much
    (tmp_path / "v9.yaml").write_text(yaml.safe_dump(draft))
    mp.setenv("KLOUT_FORMULAS_DIR", str(tmp_path))

    versioned = [AssetKey(table.split(".")) for table in versioned_tables()]
    materialize_range(
        defs,
        FIRST,
        LAST,
        selection=versioned,
        run_config={"ops": {op: {"config": {"formula_version": "v9"}} for op in versioned_ops()}},
    )
    review = [AssetKey(["marts", "formula_comparison"]), AssetKey(["marts", "formula_movers"])]
    materialize_range(
        defs, FIRST, LAST, selection=review, run_config={"ops": {"formula_comparison": {"config": {"candidate": "v9"}}}}
    )

    for table, frame in versioned_rows(path, "v1").items():  # what users see did not move
        pd.testing.assert_frame_equal(frame, v1_before[table], obj=table)
    with duckdb.connect(path, read_only=True) as conn:
        v9_days = conn.execute("select count(distinct day) from marts.scores where formula_version = 'v9'").fetchone()[
            0
        ]
        summary = conn.execute("select * from marts.formula_comparison where candidate = 'v9' order by day").df()
        movers = conn.execute(
            "select * from marts.formula_movers where candidate = 'v9' and day = ? order by rank", [LAST]
        ).df()
    assert v9_days == WEEK_DAYS
    assert len(summary) == WEEK_DAYS and (summary["spearman"] > 0.8).all()
    assert (summary["candidate_mean"] >= summary["baseline_mean"]).all()  # more weight, same calibration
    # the expected movers: people whose audience is influential, explained by network impact
    top = movers.head(5)
    assert len(top) == 5 and (top["delta"] > 0).all()
    assert top["reasons"].str.contains(r"network impact \+\d+\.\d\d points").all(), top["reasons"].tolist()
