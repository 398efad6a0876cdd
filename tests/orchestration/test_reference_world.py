"""The default 200-person sandbox world over 14 days, as `make run` builds it: the calibration
targets, day-over-day stability, and the 90-day features recomputed straight from raw data."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.definitions import build_definitions
from orchestration.domain.formula import load_formula
from orchestration.resources import SocialNetworks

from .pipeline import materialize_range

# The calibration reference of formula v1: the default world (seed 7, 200 persons) whose last
# day is 2026-11-21, scored for the 14 partitions before it.
WORLD_END = date(2026, 11, 21)
LAST = WORLD_END - timedelta(days=1)
FIRST = LAST - timedelta(days=13)
DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@pytest.fixture(scope="module")
def reference(tmp_path_factory, dbt_manifest):
    path = str(tmp_path_factory.mktemp("reference") / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", path)
        defs = build_definitions(SocialNetworks(sandbox_persons=200, sandbox_days=30, sandbox_end_date=WORLD_END.isoformat()))
        materialize_range(defs, FIRST, LAST)
        yield path


def query(path: str, sql: str, params=None) -> pd.DataFrame:
    with duckdb.connect(path, read_only=True) as conn:
        return conn.execute(sql, params or []).df()


def test_distribution_meets_the_calibration_targets(reference):
    cal = load_formula().section("calibration")
    scores = query(reference, "select score from marts.scores where day = ?", [LAST])["score"].to_numpy()
    assert len(scores) >= 150
    assert abs(scores.mean() - cal["target_mean"]) <= 3, scores.mean()
    assert abs(np.percentile(scores, 95) - cal["target_p95"]) <= 3, np.percentile(scores, 95)
    assert scores.min() >= 1 and scores.max() <= 100


def test_steadily_active_persons_move_little_day_to_day(reference):
    moves = query(
        reference,
        """
        with steady as (
            select person_id from marts.fct_engagement_daily
            where day > ?::date - 7
            group by person_id
            having count(distinct day) filter (where posts_made > 0 or reactions_received > 0) = 7
        )
        select abs(delta) as move from marts.score_changes join steady using (person_id)
        where day > ?::date - 7 and delta is not null
        """,
        [LAST, LAST],
    )["move"]
    assert len(moves) >= 50
    assert moves.median() <= 1.0, moves.describe()


def person_of(path: str) -> dict[tuple[str, str], str]:
    """(network, native account id) -> person, from raw landing tables only."""
    accounts = query(
        path,
        """
        select a.network, a.account_id, lower(a.handle) as handle, l.person_id
        from (select network, account_id, handle from raw.mastodon_accounts
              union select network, account_id, handle from raw.bluesky_accounts) as a
        left join (select person_id, network, lower(handle) as handle from raw.platform_links
                   where partition_day = (select max(partition_day) from raw.platform_links)) as l
          on l.network = a.network and l.handle = lower(a.handle)
        """,
    )
    return {(r.network, r.account_id): (r.person_id if isinstance(r.person_id, str) else f"{r.network}:{r.account_id}")
            for r in accounts.itertuples()}


def test_ninety_day_unique_reactors_recomputed_from_raw_match_exactly(reference):
    """Exact distinct reactors over the window (never a sum of daily uniques), straight from raw."""
    raw = query(
        reference,
        """
        select network, target_account_id, reactor_account_id,
               coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
        from (select * from raw.mastodon_reactions union all by name select * from raw.bluesky_reactions)
        where reactor_account_id <> target_account_id
        """,
    )
    persons = person_of(reference)
    raw["person_id"] = [persons.get((n, a), f"{n}:{a}") for n, a in zip(raw["network"], raw["target_account_id"])]
    raw["event_day"] = pd.to_datetime(raw["event_day"]).dt.date
    window = raw[(raw["event_day"] <= LAST) & (raw["event_day"] > LAST - timedelta(days=90))]
    expected = window.groupby(["person_id", "network"])["reactor_account_id"].nunique()
    features = query(
        reference,
        "select person_id, network, engaged_audience_90d from marts.fct_features_90d where as_of_day = ?",
        [LAST],
    ).set_index(["person_id", "network"])["engaged_audience_90d"]
    sample = expected.sort_values(ascending=False).index[:10].tolist()
    sample += expected.sample(n=min(20, len(expected)), random_state=1).index.tolist()
    assert len(set(sample)) >= 20
    for key in set(sample):
        assert features.get(key) == expected[key], key
    # and nobody has more distinct reactors than raw data can show
    assert (features.reindex(expected.index).fillna(0) <= expected).all()


def test_influence_graph_names_who_influences_whom(reference):
    graph = query(reference, "select * from marts.influence_graph where day = ?", [LAST])
    assert set(graph["direction"]) == {"influences", "influenced_by"}
    assert graph.groupby(["person_id", "direction"])["rank"].max().max() <= 5
    assert (graph["person_id"] != graph["other_person_id"]).all()
    top = query(reference, "select person_id from marts.leaderboard where day = ? and rank = 1", [LAST])["person_id"][0]
    assert len(graph[(graph["person_id"] == top) & (graph["direction"] == "influences")]) == 5


def test_dbt_docs_generate_works(reference, tmp_path):
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "docs", "generate", "--quiet", "--profiles-dir", ".", "--project-dir", ".", "--target-path", str(tmp_path)],
        cwd=DBT_DIR, check=True, env={**__import__("os").environ, "KLOUT_WAREHOUSE": reference},
    )
    assert (tmp_path / "catalog.json").exists() and (tmp_path / "index.html").exists()
