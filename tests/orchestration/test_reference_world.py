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

from connectors import NETWORKS
from domain.score import EngagementEvents, score_day, with_kplus
from orchestration.assets.scoring import window_engagement
from orchestration.definitions import build_definitions
from orchestration.formulas import load_formula
from orchestration.resources import SocialNetworks
from orchestration.warehouse import Warehouse

from .pipeline import materialize_range

# The calibration reference of formula v1 (its fitting day, so v1's check here is a regression
# guard, not a test of the fit): the default world (seed 7, 200 persons) whose last day is
# 2026-11-21, scored for the 14 partitions before it. v2 was fitted elsewhere (seed 1001,
# adversarial; v2.yaml's `reference:`), so this world is held out for v2.
WORLD_END = date(2026, 11, 21)
LAST = WORLD_END - timedelta(days=1)
FIRST = LAST - timedelta(days=13)
DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@pytest.fixture(scope="module")
def reference(tmp_path_factory, dbt_manifest):
    path = str(tmp_path_factory.mktemp("reference") / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", path)
        defs = build_definitions(
            SocialNetworks(sandbox_persons=200, sandbox_days=30, sandbox_end_date=WORLD_END.isoformat())
        )
        materialize_range(defs, FIRST, LAST)
        yield path


def query(path: str, sql: str, params=None) -> pd.DataFrame:
    with duckdb.connect(path, read_only=True) as conn:
        return conn.execute(sql, params or []).df()


def test_distribution_meets_the_calibration_targets(reference):
    """v1 on the day it was fitted on: a regression guard of the pipeline and the fit (+-3)."""
    cal = load_formula("v1").section("calibration")
    scores = query(reference, "select score from marts.scores where day = ?", [LAST])["score"].to_numpy()
    assert len(scores) >= 120  # the measured persons: registered profiles' accounts and public accounts
    assert abs(scores.mean() - cal["target_mean"]) <= 3, scores.mean()
    assert abs(np.percentile(scores, 95) - cal["target_p95"]) <= 3, np.percentile(scores, 95)
    assert scores.min() >= 1 and scores.max() <= 100


# v2 on a world it was not fitted on (seed 7 not 1001, the default preset, 200 persons not 300 and
# 1,000). The scale is absolute, never re-normalised, so a smaller world (fewer reactors for its top
# to reach) has a lower p95: under v2's fit the 300-person reference world has p95 58.7 and the
# 1,000-person one 63.6, and this 200-person world measured mean 37.3, p95 54.8 (2026-11-30). The
# mean is held to +-6 and the p95 to +-10: wider than the design's +-6 because of that size effect
# (see the README, "The score"), narrow enough to catch a slope or intercept that is badly off.
V2_MEAN_TOLERANCE = 6.0
V2_P95_TOLERANCE = 10.0


def test_v2_held_out_distribution_is_near_the_targets(reference):
    """v2, computed in-process from this warehouse (+K included, as the pipeline publishes it)."""
    formula = load_formula("v2")
    cal = formula.section("calibration")
    with duckdb.connect(reference, read_only=True) as conn:
        warehouse = Warehouse(conn)
        events = window_engagement(warehouse, formula, [LAST])
        features = warehouse.features_on(LAST)
        accepted = warehouse.accepted_kplus([LAST], formula.section("kplus")["window_days"])
    scored = score_day(features, events.flows(LAST), LAST, formula)
    scores = with_kplus(scored, accepted, LAST, formula)["score"].to_numpy()
    mean, p95 = scores.mean(), np.percentile(scores, 95)
    print(f"v2 held out, seed-7 default world, {len(scores)} persons on {LAST}: mean {mean:.1f}, p95 {p95:.1f}")
    assert len(scores) >= 120
    assert abs(mean - cal["target_mean"]) <= V2_MEAN_TOLERANCE, mean
    assert abs(p95 - cal["target_p95"]) <= V2_P95_TOLERANCE, p95
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
    every_network = " union ".join(f"select network, account_id, handle from raw.{n}_accounts" for n in NETWORKS)
    accounts = query(
        path,
        f"""
        select a.network, a.account_id, lower(a.handle) as handle, l.person_id
        from ({every_network}) as a
        left join (select person_id, network, lower(handle) as handle from raw.platform_links
                   where partition_day = (select max(partition_day) from raw.platform_links)) as l
          on l.network = a.network and l.handle = lower(a.handle)
        """,
    )
    return {
        (r.network, r.account_id): (r.person_id if isinstance(r.person_id, str) else f"{r.network}:{r.account_id}")
        for r in accounts.itertuples()
    }


def test_ninety_day_unique_reactors_recomputed_from_raw_match_exactly(reference):
    """Exact distinct reactors over the window (never a sum of daily uniques), straight from raw."""
    every_network = " union all by name ".join(f"select * from raw.{n}_reactions" for n in NETWORKS)
    raw = query(
        reference,
        f"""
        select network, target_account_id, reactor_account_id,
               coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as event_day
        from ({every_network})
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
    measured = expected[expected.index.isin(features.index)]  # features cover measured persons only
    sample = measured.sort_values(ascending=False).index[:10].tolist()
    sample += measured.sample(n=min(20, len(measured)), random_state=1).index.tolist()
    assert len(set(sample)) >= 20
    for key in set(sample):
        assert features.get(key) == measured[key], key
    # and nobody has distinct reactors that raw data cannot show
    assert (features[features > 0].index.isin(expected.index)).all()


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
        [
            str(dbt),
            "docs",
            "generate",
            "--quiet",
            "--profiles-dir",
            ".",
            "--project-dir",
            ".",
            "--target-path",
            str(tmp_path),
        ],
        cwd=DBT_DIR,
        check=True,
        env={**__import__("os").environ, "KLOUT_WAREHOUSE": reference},
    )
    assert (tmp_path / "catalog.json").exists() and (tmp_path / "index.html").exists()


# --- privacy gates, end to end: search every marts table for the people who must not be there ---


@pytest.fixture(scope="module")
def world():
    from sandbox.world import WorldConfig, build_world

    return build_world(WorldConfig(seed=7, persons=200, days=30, end_date=WORLD_END))


def marts_text(path: str) -> dict[str, str]:
    """Every marts table rendered as one text blob, to search for identifiers of any kind."""
    with duckdb.connect(path, read_only=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {t: conn.execute(f"select * from marts.{t}").df().astype(str).to_csv(index=False) for t in tables}


def identifiers(world, person_ids) -> set[str]:
    """Ids, handles, account ids, and display names no one else shares."""
    persons = world.persons[world.persons["person_id"].isin(person_ids)]
    others = set(world.persons.loc[~world.persons["person_id"].isin(person_ids), "display_name"])
    accounts = world.accounts[world.accounts["person_id"].isin(person_ids)]
    names = set(persons["display_name"]) - others
    return set(persons["person_id"]) | names | set(accounts["account_id"]) | set(accounts["handle"])


def fields_matching(text: str, needles: set[str]) -> list[str]:
    """Needles that appear as a whole CSV field (with or without a network: prefix)."""
    fields = {f.split(":", 1)[-1] for f in text.replace("\n", ",").split(",")} | set(text.replace("\n", ",").split(","))
    return sorted(needles & fields)


def test_opted_out_persons_appear_in_no_output_and_are_purged_from_raw(reference, world):
    opted_out = world.persons.loc[world.persons["registered"] & world.persons["opted_out"], "person_id"]
    assert len(opted_out) >= 3
    needles = identifiers(world, opted_out)
    for table, text in marts_text(reference).items():
        found = fields_matching(text, needles)
        assert not found, (table, found[:5])
    ids = sorted(world.accounts.loc[world.accounts["person_id"].isin(opted_out), "account_id"])
    for network in ("mastodon", "bluesky"):
        for table, column in (
            ("posts", "account_id"),
            ("accounts", "account_id"),
            ("reactions", "target_account_id"),
            ("reactions", "reactor_account_id"),
            ("reactions", "source_account_id"),
        ):
            hits = query(
                reference,
                f"select count(*) as n from raw.{network}_{table} where {column} in (select unnest(?))",
                [ids],
            )
            assert hits["n"][0] == 0, (network, table, column)
    kept = query(
        reference, "select * from raw.platform_profiles where person_id in (select unnest(?))", [list(opted_out)]
    )
    assert kept[["display_name", "birth_date", "location"]].isna().all().all()


def test_opted_out_reactions_still_count_anonymously(reference):
    anonymous = query(
        reference,
        "select count(*) as n from intermediate.int_engagement_events where reactor_account_key like '%:anon-%'",
    )
    assert anonymous["n"][0] > 0


def test_minors_are_never_scored_ranked_or_eligible(reference, world):
    from tests.domain.oracles import is_adult

    registered = world.persons[world.persons["registered"]]
    minors = [
        p
        for p, born in zip(registered["person_id"], registered["birth_date"])
        if not is_adult(pd.Timestamp(born).date(), LAST)
    ]
    assert minors
    for table in ("scores", "leaderboard", "topic_leaderboards", "perk_eligibility", "person_topics", "score_changes"):
        hits = query(
            reference, f"select count(*) as n from marts.{table} where person_id in (select unnest(?))", [minors]
        )
        assert hits["n"][0] == 0, table


def test_private_accounts_are_used_only_with_consent(reference, world):
    links = world.profile_links
    refused = links[links["is_private"] & ~links["private_consent"]]
    consented = links[links["is_private"] & links["private_consent"]]
    assert len(refused) and len(consented)
    for network, accounts in refused.groupby("network"):
        ids = list(accounts["account_id"])
        for table, column in (("posts", "account_id"), ("accounts", "account_id"), ("reactions", "reactor_account_id")):
            hits = query(
                reference,
                f"select count(*) as n from raw.{network}_{table} where {column} in (select unnest(?))",
                [ids],
            )
            assert hits["n"][0] == 0, (network, table)
    needles = set(refused["account_id"]) | set(refused["handle"])
    for table, text in marts_text(reference).items():
        assert not fields_matching(text, needles), table
    landed = query(
        reference,
        "select count(*) as n from raw.mastodon_accounts where account_id in (select unnest(?))",
        [list(consented.loc[consented["network"] == "mastodon", "account_id"])],
    )
    assert landed["n"][0] > 0 or (consented["network"] != "mastodon").all()


def test_topic_assignment_precision_on_the_sandbox_world(reference, world):
    from tests.domain.oracles import assignment_precision

    assigned = query(
        reference,
        "select person_id, topic_slug, evidence from marts.person_topics where day = ? and evidence is not null",
        [LAST],
    )
    assigned["person_rank"] = assigned.groupby("person_id")["evidence"].rank(ascending=False, method="first")
    precision = assignment_precision(assigned, world.persons[["person_id", "topics"]], top_k=1)
    print(
        f"topic assignment precision (top topic vs generated topics): {precision:.3f}"
        f" over {assigned['person_id'].nunique()} persons"
    )
    assert precision >= 0.8


def test_kplus_rules_and_sashes_land_in_marts(reference):
    reasons = set(query(reference, "select distinct reason from marts.kplus_rejected")["reason"])
    assert {"self_give", "topic_not_on_profile"} <= reasons
    accepted = query(reference, "select giver_person_id, given_day, count(*) as n from marts.kplus_ledger group by all")
    assert len(accepted) and accepted["n"].max() <= 10
    sashes = set(query(reference, "select distinct sash from marts.topic_leaderboards")["sash"])
    assert "gold" in sashes and sashes <= {"gold", "blue", "blue_and_gold"}
    perks = query(reference, "select * from marts.perk_eligibility limit 1")
    assert set(perks.columns) == {"campaign_id", "person_id", "display_name", "rank", "day", "formula_version"}


def test_no_unmeasured_person_appears_anywhere_outside_the_registry(reference, world):
    """Every schema, every table and view, every day: minors (registered or not), people who opted
    out (from the start or part-way), private accounts without consent, and private accounts nobody
    registered (seen only reacting or mentioned)."""
    from .pipeline import identifiers, traces

    p, accounts = world.persons, world.accounts
    minor = pd.to_datetime(p.birth_date) > pd.Timestamp(LAST) - pd.DateOffset(years=18)
    late = p.opted_out_on.notna() & (p.opted_out_on <= LAST)
    refused = world.profile_links[world.profile_links.is_private & ~world.profile_links.private_consent].person_id
    withdrawn = p.consent_withdrawn_on.notna() & (p.consent_withdrawn_on <= LAST)
    groups = {
        "registered minors": set(p.person_id[minor & p.registered]),
        "minors nobody registered (seen only reacting or mentioned)": set(p.person_id[minor & ~p.registered]),
        "opted out": set(p.person_id[p.registered & (p.opted_out | late)]),
        "private without consent": set(refused) | set(p.person_id[withdrawn]),
    }
    assert all(groups.values()) and late.any()
    for name, persons in groups.items():
        assert traces(reference, identifiers(world, persons)) == [], name
    unregistered_private = accounts[accounts.is_private & ~accounts.person_id.isin(set(p.person_id[p.registered]))]
    assert len(unregistered_private)
    needles = set(unregistered_private.account_id) | {
        f"{n}:{a}" for n, a in zip(unregistered_private.network, unregistered_private.account_id)
    }
    assert traces(reference, needles) == []


def test_each_persons_networks_accumulate_on_real_data(reference):
    """Networks accumulate, on the reference world's last day: for every person on several of the
    seven networks, taking away one of their accounts (its features and every reaction it gave or
    received) never raises their score, and usually lowers it."""
    formula = load_formula()
    with duckdb.connect(reference, read_only=True) as conn:
        warehouse = Warehouse(conn)
        events = warehouse.window_events([LAST], formula.section("features")["window_days"])
        features = warehouse.features_on(LAST)
    assert set(features.network) == set(NETWORKS)

    def scores(features, events):
        flows = EngagementEvents(events, formula).flows(LAST)
        return score_day(features, flows, LAST, formula).set_index("person_id")["score"]

    full = scores(features, events)
    on_several = features.groupby("person_id").network.nunique().loc[lambda n: n >= 2].index
    rises, drops = [], []
    for person in on_several:
        for network in features.network[features.person_id == person]:
            mine = events.network.eq(network) & (
                events.target_person_id.eq(person) | events.reactor_person_id.eq(person)
            )
            without = scores(
                features[~(features.person_id.eq(person) & features.network.eq(network))], events[~mine]
            ).get(person, 1.0)
            (rises if without > full[person] + 1e-9 else drops).append((person, network, without - full[person]))
    assert len(on_several) >= 50 and not rises, rises[:5]
    assert sum(delta < 0 for _, _, delta in drops) >= 0.8 * len(drops)
