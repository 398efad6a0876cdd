"""Each suite passes on clean data and fails, naming table, expectation and column, on one fault of its class."""

from __future__ import annotations

import duckdb
import pytest

from connectors import NETWORKS
from connectors.registry import NetworkSpec
from expectations.runner import load_suite, suite_names, validate_partition
from orchestration.checks import all_gx_checks, suite_asset

from .conftest import DAY, build_clean

# (suite, fault SQL, expectation type, column it must name, severity)
FAULTS = [
    (
        "raw_mastodon_posts",
        "update raw.mastodon_posts set post_id = null where post_id = '9002'",
        "expect_column_values_to_not_be_null",
        "post_id",
        "error",
    ),
    (
        "raw_mastodon_posts",
        "update raw.mastodon_posts set post_id = '9001'",
        "expect_column_values_to_be_unique",
        "post_id",
        "error",
    ),
    (
        "raw_mastodon_posts",
        "update raw.mastodon_posts set created_at = '2026-11-19 23:59:59+00' where post_id = '9002'",
        "expect_column_values_to_be_in_set",
        "created_in_partition",
        "error",
    ),
    (
        "raw_bluesky_posts",
        "update raw.bluesky_posts set created_at = now() + interval 1 day",
        "expect_column_values_to_be_in_set",
        "created_not_in_future",
        "error",
    ),
    (
        "raw_bluesky_posts",
        "update raw.bluesky_posts set created_at = '2026-11-21 00:00:00+00'",
        "expect_column_values_to_be_in_set",
        "created_in_partition",
        "error",
    ),
    (
        "raw_mastodon_reactions",
        "update raw.mastodon_reactions set reaction_type = 'like'",
        "expect_column_values_to_be_in_set",
        "reaction_type",
        "error",
    ),
    (
        "raw_mastodon_reactions",
        "insert into raw.mastodon_reactions select * from raw.mastodon_reactions where reaction_type = 'reply'",
        "expect_compound_columns_to_be_unique",
        "post_id,reactor_account_id,reaction_type",
        "error",
    ),
    (
        "raw_bluesky_reactions",
        "update raw.bluesky_reactions set reacted_at = now() + interval 2 day",
        "expect_column_values_to_be_in_set",
        "reacted_not_in_future",
        "error",
    ),
    (
        "raw_bluesky_reactions",
        "update raw.bluesky_reactions set reactor_account_id = null",
        "expect_column_values_to_not_be_null",
        "reactor_account_id",
        "error",
    ),
    (
        "raw_mastodon_accounts",
        "update raw.mastodon_accounts set payload = json_object('followers_count', -5, 'following_count', 1, 'statuses_count', 1) where account_id = '102'",
        "expect_column_values_to_be_between",
        "followers_count",
        "error",
    ),
    (
        "raw_bluesky_accounts",
        "insert into raw.bluesky_accounts select * from raw.bluesky_accounts",
        "expect_compound_columns_to_be_unique",
        "account_id,partition_day",
        "error",
    ),
    (
        "scores",
        "update marts.scores set score = 0 where person_id = 'p_bob'",
        "expect_column_values_to_be_between",
        "score",
        "error",
    ),
    (
        "scores",
        "update marts.scores set score = 101 where person_id = 'p_ada'",
        "expect_column_values_to_be_between",
        "score",
        "error",
    ),
    (
        "scores",
        "insert into marts.scores select * from marts.scores where person_id = 'p_ada'",
        "expect_compound_columns_to_be_unique",
        "person_id,day,formula_version",
        "error",
    ),
    (
        "topic_leaderboards",
        "update marts.topic_leaderboards set rank_influence = 11 where person_id = 'p_bob'",
        "expect_column_values_to_be_in_set",
        "sash_earned_by_rank",
        "error",
    ),
    (
        "topic_leaderboards",
        "update marts.topic_leaderboards set sash = 'silver' where person_id = 'p_bob'",
        "expect_column_values_to_be_in_set",
        "sash",
        "error",
    ),
    (
        "topic_leaderboards",
        "insert into marts.topic_leaderboards select day, topic_slug, 'x' || i, 1.0, 0, i, null, 'gold', 'v1'"
        " from marts.topic_leaderboards, range(3, 13) as r(i) where person_id = 'p_bob'",
        "expect_column_values_to_be_in_set",
        "gold_board_within_size",
        "error",
    ),
    (
        "topic_leaderboards",
        "insert into marts.topic_leaderboards values ('2026-11-20', 'tech', 'p_kid', 30.0, 0, 3, null, 'gold', 'v1')",
        "expect_column_values_to_be_in_set",
        "is_minor",
        "error",
    ),
    (
        "topic_leaderboards",
        "insert into marts.topic_leaderboards values ('2026-11-20', 'tech', 'p_out', 30.0, 0, 3, null, 'gold', 'v1')",
        "expect_column_values_to_be_in_set",
        "is_opted_out",
        "error",
    ),
    (
        "perk_eligibility",
        "insert into marts.perk_eligibility values ('c1', 'p_kid', 'Kid', 3, '2026-11-20', 'v1')",
        "expect_column_values_to_be_in_set",
        "is_adult",
        "error",
    ),
    (
        "perk_eligibility",
        "insert into marts.perk_eligibility values ('c1', 'p_out', null, 3, '2026-11-20', 'v1')",
        "expect_column_values_to_be_in_set",
        "is_opted_out",
        "error",
    ),
    (
        "perk_eligibility",
        "alter table marts.perk_eligibility add column birth_date date",
        "expect_table_columns_to_match_set",
        None,
        "error",
    ),
]


@pytest.mark.parametrize("suite", suite_names())
def test_suite_passes_on_clean_data(warehouse, suite):
    result = validate_partition(warehouse, suite, [DAY])
    assert result.success, result.summary()
    assert result.evaluated == len(load_suite(suite).expectations)


@pytest.mark.parametrize(
    ("suite", "fault", "expectation", "column", "severity"), FAULTS, ids=[f"{f[0]}:{f[3] or f[2]}" for f in FAULTS]
)
def test_suite_fails_on_fault_and_names_it(warehouse, suite, fault, expectation, column, severity):
    warehouse.run(fault)
    result = validate_partition(warehouse, suite, [DAY])
    assert not result.success
    matching = [f for f in result.failures if f.expectation == expectation and (column is None or f.column == column)]
    assert matching, result.summary()
    failure = matching[0]
    table = load_suite(suite).table
    assert table in failure.message and expectation in failure.message
    assert column is None or column in failure.message
    assert failure.severity == severity
    assert result.severity == ("error" if any(f.severity == "error" for f in result.failures) else "warn")
    if failure.unexpected_count is not None:
        assert failure.unexpected_count >= 1 and failure.sample  # a few sample rows, with their keys
    if expectation == "expect_table_columns_to_match_set":
        assert "birth_date" in failure.message


def test_partition_window_excludes_other_days(warehouse):
    warehouse.run("update marts.scores set score = 0, day = '2026-11-19' where person_id = 'p_bob'")
    assert validate_partition(warehouse, "scores", [DAY]).success
    assert not validate_partition(warehouse, "scores", [date_(2026, 11, 19)]).success


def test_samples_show_row_keys(warehouse):
    warehouse.run("update marts.scores set score = 101 where person_id = 'p_ada'")
    failure = validate_partition(warehouse, "scores", [DAY]).failures[0]
    assert failure.sample[0]["person_id"] == "p_ada" and failure.sample[0]["score"] == 101


def test_no_connection_left_open(warehouse):
    validate_partition(warehouse, "topic_leaderboards", [DAY])
    conn = duckdb.connect(warehouse)  # read-write in this process fails if a read-only one is still open
    conn.execute("insert into marts.scores values ('p_new', '2026-11-20', 'v1', 40.0, 1.0)")
    conn.close()


def test_open_writer_in_this_process_is_a_clear_error(warehouse):
    conn = duckdb.connect(warehouse)  # a writer left open in the same process: DuckDB cannot mix configurations
    try:
        with pytest.raises(RuntimeError, match="read-only"):
            validate_partition(warehouse, "scores", [DAY])
    finally:
        conn.close()
    assert validate_partition(warehouse, "scores", [DAY]).success


def test_every_suite_has_a_check_on_its_table():
    checks = all_gx_checks()
    names = {spec.name for c in checks for spec in c.check_specs}
    assert names == {f"gx_{s}" for s in suite_names()}
    assert {spec.asset_key for c in checks for spec in c.check_specs} == {suite_asset(s) for s in suite_names()}


def test_every_registered_network_gets_its_raw_suites_from_the_templates():
    for network, spec in NETWORKS.items():
        reactions = load_suite(f"raw_{network}_reactions")
        assert reactions.table == f"raw.{network}_reactions"
        in_sets = [e["kwargs"]["value_set"] for e in reactions.expectations if "value_set" in e["kwargs"]]
        assert [*spec.reaction_types, "mention"] in in_sets and [network] in in_sets
        assert all(
            f"'{field}'" in load_suite(f"raw_{network}_accounts").query for field in spec.account_counts.values()
        )


def _raw_tables(spec: NetworkSpec) -> list[str]:
    """The raw tables a clean day fills: counts only when the API counts some words (else no word is valid)."""
    return ["accounts", "posts", "reactions", *(["counts"] if spec.anonymous_counts else [])]


def _assert_raw_suites_validate_rows(database: str, network: str, spec: NetworkSpec) -> None:
    conn = duckdb.connect(database, read_only=True)
    try:
        counts = {t: conn.execute(f"select count(*) from raw.{network}_{t}").fetchone()[0] for t in _raw_tables(spec)}
    finally:
        conn.close()
    assert all(counts.values()), f"{network}: empty clean raw tables {counts}"
    for table in _raw_tables(spec):
        result = validate_partition(database, f"raw_{network}_{table}", [DAY])
        assert result.success, result.summary()
        assert result.rows >= 1 and result.evaluated == len(load_suite(f"raw_{network}_{table}").expectations)


@pytest.mark.parametrize("network", NETWORKS)
def test_every_network_has_clean_rows_its_raw_suites_pass_on(warehouse, network):
    """test_suite_passes_on_clean_data passes on an empty table too; here each raw suite validates rows."""
    _assert_raw_suites_validate_rows(warehouse, network, NETWORKS[network])


def test_a_new_network_gets_clean_rows_from_its_spec(monkeypatch, tmp_path):
    """Registering a network (nested and missing account counts, a counted-only word) is all it takes."""
    spec = NetworkSpec(
        name="newnet",
        client_class=object,
        default_base_url="https://newnet.invalid",
        env_prefix="NEWNET",
        reaction_types=("boost",),
        anonymous_counts=("view",),
        account_counts={"followers_count": "$.stats.fans", "posts_count": "items"},
    )
    monkeypatch.setitem(NETWORKS, "newnet", spec)
    database = str(tmp_path / "clean.duckdb")
    build_clean(database)
    _assert_raw_suites_validate_rows(database, "newnet", spec)


def test_board_size_matches_formula():
    from domain import formula

    product = formula.load_product() if hasattr(formula, "load_product") else {}
    board_size = (product.get("leaderboards") or formula.load_formula().section("leaderboards"))["board_size"]
    assert load_suite("topic_leaderboards").params["board_size"] == board_size


def date_(*args):
    from datetime import date

    return date(*args)
