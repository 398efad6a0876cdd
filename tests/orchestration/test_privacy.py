"""Privacy end to end on a small world: people who opt out or withdraw consent part-way through
history are forgotten in every table and every past day by the next run, without moving anyone
else's history; the audit finds a leak wherever it is injected."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance

from orchestration.definitions import build_definitions
from orchestration.forgetting import REGISTRY_TABLES, SCHEMA, WarehousePrivacy
from sandbox.world import WorldConfig, build_world

from .pipeline import SMALL_WORLD, WORLD_END, identifiers, materialize_range, small_social, traces

SALT = "open-klout"


@pytest.fixture(scope="module")
def world():
    return build_world(
        WorldConfig(
            seed=7, persons=SMALL_WORLD["sandbox_persons"], days=SMALL_WORLD["sandbox_days"], end_date=WORLD_END
        )
    )


@pytest.fixture(scope="module")
def late(world):
    """The world's part-way changes: who opts out and who withdraws consent, and when."""
    p = world.persons
    opted = p[p.opted_out_on.notna()].iloc[0]
    withdrawn = p[p.consent_withdrawn_on.notna()].iloc[0]
    return opted.person_id, opted.opted_out_on, withdrawn.person_id, withdrawn.consent_withdrawn_on


@pytest.fixture(scope="module")
def history(tmp_path_factory, dbt_manifest, late):
    """Run 1 ends the day before the opt-out; run 2 covers it and the days up to the withdrawal."""
    _, opt_out_day, _, withdrawal_day = late
    first = opt_out_day - timedelta(days=5)
    assert first <= withdrawal_day
    path = str(tmp_path_factory.mktemp("privacy") / "warehouse.duckdb")
    instance = DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", path)
        defs = build_definitions(small_social())
        materialize_range(defs, first, opt_out_day - timedelta(days=1), instance=instance)
        with duckdb.connect(path, read_only=True) as conn:
            before = conn.execute("select * from marts.scores order by all").df()
        last = max(withdrawal_day, opt_out_day)
        result = materialize_range(defs, opt_out_day, last, instance=instance)
    yield path, before, result, (first, opt_out_day, last)


def test_the_run_after_an_opt_out_forgets_them_in_every_table_and_day(history, world, late):
    path, _, _, _ = history
    opted, _, withdrawn, _ = late
    assert traces(path, identifiers(world, [opted])) == []
    assert traces(path, identifiers(world, [withdrawn])) == []
    with duckdb.connect(path, read_only=True) as conn:
        kept = conn.execute(
            "select display_name, location, birth_date from raw.platform_profiles where person_id = ?", [opted]
        ).df()
        reasons = dict(conn.execute(f"select person_id, reason from {SCHEMA}.unmeasured_persons").fetchall())
    assert len(kept) and kept.isna().all().all()  # the registry row: id and flags only
    assert reasons[opted] == "opted_out" and reasons[withdrawn] == "private_without_consent"


def test_everyone_elses_history_is_unchanged(history, late):
    path, before, _, (first, opt_out_day, _) = history
    opted, _, withdrawn, _ = late
    with duckdb.connect(path, read_only=True) as conn:
        after = conn.execute("select * from marts.scores where day < ? order by all", [opt_out_day]).df()
    kept = before[~before.person_id.isin([opted, withdrawn])].reset_index(drop=True)
    assert len(kept) and set(before.person_id) > set(kept.person_id)  # they were scored before
    pd.testing.assert_frame_equal(kept, after[~after.person_id.isin([withdrawn])].reset_index(drop=True))


def test_the_forgetting_is_reported_and_the_audit_passes(history):
    _, _, result, _ = history
    forget = result.asset_materializations_for_node("privacy__unmeasured_persons")[-1].metadata
    assert forget["forgotten_rows"].value > 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["no_unmeasured_person_outside_registry"] is True


def test_forgetting_again_changes_nothing(history, tmp_path, late):
    path, _, _, (_, _, last) = history
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    with duckdb.connect(copy) as conn:
        registry = WarehousePrivacy(conn, SALT)
        report = registry.purge(registry.unmeasured(last))
    assert report.rows == {}


def text_columns(conn) -> list[tuple[str, str, str]]:
    return conn.execute(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns as c"
        " join information_schema.tables as t using (table_schema, table_name)"
        " where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR' and c.table_schema not in (?)"
        " order by 1, 2, 3",
        [SCHEMA],
    ).fetchall()


def test_the_audit_finds_a_leak_injected_into_any_table(history, tmp_path, late):
    path, _, _, (_, _, last) = history
    opted = late[0]
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    with duckdb.connect(copy) as conn:
        registry = WarehousePrivacy(conn, SALT)
        unmeasured = registry.unmeasured(last)
        assert registry.audit(unmeasured) == []
        injected = 0
        for schema, table, column in text_columns(conn):
            name = f"{schema}.{table}"
            if name in REGISTRY_TABLES or not conn.execute(f"select count(*) from {name}").fetchone()[0]:
                continue
            conn.execute("begin transaction")
            conn.execute(f"insert into {name} select * replace (? as {column}) from {name} limit 1", [opted])
            found = {(f.table, f.column) for f in registry.audit(unmeasured, tables=[name])}
            conn.execute("rollback")
            assert (name, column) in found, name
            injected += 1
        conn.execute("create schema scratch")
        conn.execute("create table scratch.notes as select ? as who", [opted])
        assert [(f.table, f.column) for f in registry.audit(unmeasured)] == [("scratch.notes", "who")]
    assert injected > 40


def test_a_leak_fails_the_blocking_audit_check(history, tmp_path, late, dbt_manifest):
    path, _, _, (_, _, last) = history
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    with duckdb.connect(copy) as conn:
        conn.execute(
            "insert into marts.leaderboard select * replace (? as person_id) from marts.leaderboard limit 1", [late[0]]
        )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", copy)
        defs = build_definitions(small_social())
        job = defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(
            asset_selection=[AssetKey(["privacy", "audit"])],
            instance=DagsterInstance.ephemeral(),
            raise_on_error=False,
            partition_key=last.isoformat(),
        )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed is False and evaluation.metadata["findings"].value == 1


def measured_person(path: str) -> str:
    with duckdb.connect(path, read_only=True) as conn:
        return conn.execute("select person_id from marts.leaderboard order by day desc, rank limit 1").fetchone()[0]


def test_subject_access_exports_their_rows_and_audits_without_personal_data(history, world, tmp_path):
    path, _, _, _ = history
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    person = measured_person(copy)
    with duckdb.connect(copy) as conn:
        request_id, out, counts = WarehousePrivacy(conn, SALT).export_request(person, "test", tmp_path / "exports")
        requests = conn.execute(f"select * from {SCHEMA}.requests").df()
    exported = __import__("json").loads(out.read_text())
    assert exported["person_id"] == person and counts["marts.scores"] > 0 and counts["raw.platform_profiles"] > 0
    assert all(row["person_id"] == person for row in exported["tables"]["marts.scores"])
    assert list(requests.request_id) == [request_id] and requests.kind[0] == "export"
    assert not requests.astype(str).isin(identifiers(world, [person])).any().any()  # a salted hash, not the id


def test_erasure_by_the_dagster_job_forgets_them_now(history, world, tmp_path, dbt_manifest):
    path, _, _, _ = history
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    person = measured_person(copy)
    assert traces(copy, identifiers(world, [person]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", copy)
        defs = build_definitions(small_social())
        result = defs.resolve_job_def("erase_person").execute_in_process(
            run_config={"ops": {"erase_subject": {"config": {"person_id": person}}}},
            instance=DagsterInstance.ephemeral(),
        )
    assert result.success
    assert traces(copy, identifiers(world, [person])) == []
    with duckdb.connect(copy, read_only=True) as conn:
        kinds = [k for (k,) in conn.execute(f"select kind from {SCHEMA}.requests").fetchall()]
        erased = [p for (p,) in conn.execute(f"select person_id from {SCHEMA}.erasures").fetchall()]
    assert kinds == ["erase"] and erased == [person]


def test_a_public_account_that_turns_private_is_forgotten_everywhere_and_measured_again_once_public(
    history, world, tmp_path
):
    """The gate's word that a tracked, unregistered account is now private (its owner never
    consented) forgets every row landed while it was public, in every table; seen public again, it
    is measured again."""
    path, _, _, (_, _, last) = history
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    public = world.public_handles[world.public_handles.network == "mastodon"].iloc[0]
    person = f"mastodon:{public.account_id}"
    same_handle_elsewhere = "select count(*) from intermediate.int_identity where handle = ? and network <> 'mastodon'"
    with duckdb.connect(copy) as conn:
        assert conn.execute("select count(*) from marts.scores where person_id = ?", [person]).fetchone()[0] > 0
        elsewhere = conn.execute(same_handle_elsewhere, [public.handle]).fetchone()[0]
        registry = WarehousePrivacy(conn, SALT)
        assert registry.record_privacy_flags("mastodon", {public.account_id}, set(), last) == {public.account_id}
        assert registry.record_privacy_flags("mastodon", {public.account_id}, set(), last) == set()  # known now
        unmeasured = registry.unmeasured(last)
        assert unmeasured.reasons[person] == "private_without_consent"
        registry.purge(unmeasured)
        assert registry.audit(unmeasured) == []
        # its handle is gone from Mastodon's rows; the same string on another network is another
        # account (often the same human's, unregistered there), and stays
        assert (
            conn.execute("select count(*) from raw.mastodon_accounts where handle = ?", [public.handle]).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "select count(*) from intermediate.int_identity where handle = ? and network = 'mastodon'",
                [public.handle],
            ).fetchone()[0]
            == 0
        )
        assert conn.execute(same_handle_elsewhere, [public.handle]).fetchone()[0] == elsewhere
    assert traces(copy, {person, public.account_id}) == []
    with duckdb.connect(copy) as conn:
        registry = WarehousePrivacy(conn, SALT)
        registry.record_privacy_flags("mastodon", set(), {public.account_id}, last + timedelta(days=1))
        assert person not in registry.unmeasured(last).reasons


def test_a_newly_forgotten_person_drops_the_carried_topic_evidence(history, tmp_path):
    """person_topics carries sums over the window; once someone's past rows are forgotten those sums
    would still count them, so the state goes and the next run reads its whole window. Forgetting
    nobody new keeps it."""
    path, _, _, (_, _, last) = history
    copy = str(tmp_path / "w.duckdb")
    shutil.copy(path, copy)
    person = measured_person(copy)
    kept = "select day from cache.topic_state order by day"
    with duckdb.connect(copy) as conn:
        held = conn.execute(kept).fetchall()
        assert [d for (d,) in held] == [last - timedelta(days=1), last]
        WarehousePrivacy(conn, SALT).forget(last)
        assert conn.execute(kept).fetchall() == held
        WarehousePrivacy(conn, SALT).erase_person(person, last)
        assert conn.execute(kept).fetchall() == []
