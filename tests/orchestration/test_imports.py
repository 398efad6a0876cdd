"""Bulk imports (`make import`): rows land in their partitions, bad rows are rejected with file,
line and reason, a second import changes nothing, the privacy gate holds, and the CLI refuses
politely while another process holds the warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.privacy import PrivacyGate
from orchestration.imports import INTERACTIONS, REJECTS, ImportRefused, import_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "imports" / "interactions_malformed.csv"
NOW = datetime.fromisoformat("2026-11-28T12:00:00+00:00")
SALT = "test-salt"


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def rows(conn, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_bad_rows_are_rejected_with_file_line_and_reason_and_good_rows_land(conn, tmp_path):
    path = tmp_path / "log.csv"
    shutil.copy(FIXTURE, path)
    report = import_file(conn, path, salt=SALT, now=NOW)

    rejects = rows(conn, f"select source_file, line, reason from {REJECTS} order by line")
    assert [(f, line) for f, line, _ in rejects] == [(str(path), 4), (str(path), 5), (str(path), 6), (str(path), 7)]
    reasons = [r for _, _, r in rejects]
    assert reasons[0].startswith('bad post_time "last tuesday"')
    assert reasons[1] == "missing author"
    assert reasons[2].startswith('unknown reaction_type "wow"')
    assert reasons[3] == "wrong column count: 4, expected 8"

    landed = rows(
        conn,
        f"select network, post_id, author_account_id, reactor_account_id, reaction_type, source_reaction_type,"
        f" partition_day, source_line from {INTERACTIONS} order by source_line",
    )
    assert landed == [
        ("imported", "p1", "alice", "bob", "like", "like", date(2026, 11, 20), 2),
        ("imported", "p1", "alice", "carol", "reply", "comment", date(2026, 11, 21), 3),  # 09:00+01 is 08:00 UTC
        ("imported", "p3", "alice", None, None, None, date(2026, 11, 22), 8),  # a post nobody reacted to
        ("googleplus", "p4", "bob", "alice", "like", "plusone", date(2026, 11, 21), 9),  # no time: its post's day
    ]
    assert report.landed == {date(2026, 11, 20): 1, date(2026, 11, 21): 2, date(2026, 11, 22): 1}
    assert report.rejected == {date(2026, 11, 21): 3, None: 1}  # the bad time's row still has a reaction day
    printed = "\n".join(report.lines())
    assert "2026-11-21" in printed and REJECTS in printed and report.sha256 in printed

    # the same file again (under another name too): nothing changes
    before = rows(conn, f"select * exclude (fetched_at) from {INTERACTIONS} order by all")
    rejects_before = rows(conn, f"select source_sha256, line, reason from {REJECTS} order by all")
    again = import_file(conn, path, salt=SALT, now=NOW)
    assert again.landed_rows == 0 and again.already_landed == 4 and again.rejected_rows == 4
    assert rows(conn, f"select * exclude (fetched_at) from {INTERACTIONS} order by all") == before
    assert rows(conn, f"select source_sha256, line, reason from {REJECTS} order by all") == rejects_before


def test_the_network_argument_names_rows_without_one_and_unknown_names_are_refused(conn, tmp_path):
    path = tmp_path / "log.tsv"
    path.write_text(
        "author\treactor\tpost_id\tpost_time\treaction_time\tnetwork\treaction_type\ttext\n"
        "alice\tbob\tq1\t2026-11-20 10:00:00\t2026-11-20 12:00:00\t\tretweet\thi\n"
        "alice\tbob\tq2\t2026-11-20 10:00:00\t2026-11-20 12:00:00\tmyspace\tlike\thi\n"
    )
    with pytest.raises(ImportRefused, match="unknown network 'myspace'"):
        import_file(conn, path, network="myspace")
    report = import_file(conn, path, network="googleplus", salt=SALT, now=NOW)
    assert rows(conn, f"select network, post_id, reaction_type from {INTERACTIONS}") == [
        ("googleplus", "q1", "reshare")
    ]
    ((reason,),) = rows(conn, f"select reason from {REJECTS}")
    assert reason.startswith('unknown network "myspace"') and "vars.imported_networks" in reason
    assert report.rejected_rows == 1


def test_a_mention_names_the_account_mentioned_not_the_posts_author(conn, tmp_path):
    """The contract: a mention row's author is who was mentioned, so it may share a post_id with the
    mentioner's own rows; two authors of one post are still a reject."""
    path = tmp_path / "log.csv"
    path.write_text(
        "author,post_id,post_time,reactor,reaction_type\n"
        "alice,p1,2026-11-20T10:00Z,bob,like\n"
        "carol,p1,2026-11-20T10:00Z,alice,mention\n"
        "dave,p1,2026-11-20T10:00Z,erin,like\n"
    )
    report = import_file(conn, path, salt=SALT, now=NOW)
    assert rows(conn, f"select author_account_id, reaction_type from {INTERACTIONS} order by source_line") == [
        ("alice", "like"),
        ("carol", "mention"),
    ]
    ((line, reason),) = rows(conn, f"select line, reason from {REJECTS}")
    assert line == 4 and reason == 'post_id "p1" belongs to "alice" (line 2)'
    assert report.rejected_rows == 1


def test_parquet_files_land_with_their_typed_timestamps(conn, tmp_path):
    path = tmp_path / "log.parquet"
    table = pa.table(
        {
            "author": ["alice", "alice"],
            "reactor": ["bob", "carol"],
            "post_id": ["r1", "r1"],
            "post_time": pa.array([datetime(2026, 11, 19, 23, 0)] * 2, pa.timestamp("us", tz="UTC")),
            "reaction_time": pa.array([datetime(2026, 11, 20, 1, 0), None], pa.timestamp("us", tz="UTC")),
            "reaction_type": ["quote", "mention"],
        }
    )
    pq.write_table(table, path)
    import_file(conn, path, salt=SALT, now=NOW)
    assert rows(conn, f"select reactor_account_id, partition_day, source_line from {INTERACTIONS} order by 3") == [
        ("bob", date(2026, 11, 20), 1),
        ("carol", date(2026, 11, 19), 2),
    ]


def registry(conn, profiles: list[tuple], links: list[tuple]) -> None:
    conn.execute("create schema if not exists raw")
    conn.execute(
        "create table raw.platform_profiles (person_id varchar, display_name varchar, birth_date date,"
        " location varchar, opted_out boolean, is_private boolean, private_consent boolean, partition_day date,"
        " fetched_at timestamptz, payload json)"
    )
    conn.execute(
        "create table raw.platform_links (person_id varchar, network varchar, handle varchar, partition_day date,"
        " fetched_at timestamptz, payload json)"
    )
    for person, birth, opted_out, private, consent in profiles:
        conn.execute(
            "insert into raw.platform_profiles values (?, 'N', ?, 'L', ?, ?, ?, '2026-11-01', now(), '{}')",
            [person, birth, opted_out, private, consent],
        )
    for person, network, handle in links:
        conn.execute(
            "insert into raw.platform_links values (?, ?, ?, '2026-11-01', now(), '{}')", [person, network, handle]
        )


def test_the_privacy_gate_withholds_and_pseudonymises_the_unmeasured_by_any_id_the_registry_knows(conn, tmp_path):
    registry(
        conn,
        [
            ("p000001", date(1990, 1, 1), True, False, False),  # opted out
            ("p000002", date(2008, 11, 21), False, False, False),  # turns 18 on 2026-11-21
            ("p000003", date(1990, 1, 1), False, True, False),  # private without consent
            ("p000004", date(1990, 1, 1), False, False, False),  # measured
        ],
        [("p000001", "mastodon", "optedout"), ("p000003", "x", "secretive"), ("p000004", "x", "fine")],
    )
    path = tmp_path / "log.csv"
    path.write_text(
        "author,reactor,post_id,post_time,reaction_time,reaction_type,text\n"
        "@OptedOut,fine,s1,2026-11-20T10:00:00Z,2026-11-20T11:00:00Z,like,mine\n"  # a linked handle, any case, @
        "p000002,fine,s2,2026-11-20T10:00:00Z,2026-11-20T11:00:00Z,like,a minor's\n"  # a person id, a minor then
        "p000002,fine,s3,2026-11-21T10:00:00Z,2026-11-21T11:00:00Z,like,an adult's\n"  # the same person, adult
        "fine,secretive,s4,2026-11-20T10:00:00Z,2026-11-20T11:00:00Z,reply,fine's post\n"  # a private reactor
        "fine,p000001,s4,2026-11-20T10:00:00Z,2026-11-20T12:00:00Z,like,fine's post\n"
    )
    report = import_file(conn, path, salt=SALT, now=NOW)
    assert report.withheld == 2 and report.pseudonymised == 2
    landed = rows(conn, f"select post_id, author_account_id, reactor_account_id from {INTERACTIONS} order by all")
    gate = PrivacyGate("imported", frozenset(), SALT)
    assert landed == sorted(
        [
            ("s3", "p000002", "fine"),
            ("s4", "fine", gate.pseudonym("secretive")),
            ("s4", "fine", gate.pseudonym("p000001")),
        ]
    )
    values = {v for row in rows(conn, f"select * from {INTERACTIONS}") for v in row if isinstance(v, str)}
    assert not values & {"@OptedOut", "optedout", "secretive", "p000001"}


def test_the_cli_refuses_while_another_process_holds_the_warehouse(tmp_path):
    warehouse = tmp_path / "held.duckdb"
    env = {**os.environ, "KLOUT_WAREHOUSE": str(warehouse), "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "import", str(FIXTURE)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "is in use by another process" in result.stderr and str(warehouse) in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "import", str(FIXTURE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "2026-11-21" in result.stdout and "raw.import_rejects" in result.stdout


@pytest.mark.slow
def test_a_million_row_file_imports_in_one_command(tmp_path):
    """The benchmark: 1M rows (100k posts, 4 words) land, per partition, within a minute or so."""
    path = tmp_path / "million.csv"
    duckdb.sql(
        f"""copy (select 'a' || ((i // 10) % 5000) as author, 'r' || ((i * 7919) % 200000) as reactor,
            'post' || (i // 10) as post_id,
            strftime(timestamp '2026-10-01' + to_seconds(i // 10 * 7), '%Y-%m-%dT%H:%M:%SZ') as post_time,
            strftime(timestamp '2026-10-01' + to_seconds(i // 10 * 7 + 3600), '%Y-%m-%dT%H:%M:%SZ') as reaction_time,
            '' as network, (['like', 'reply', 'reshare', 'quote'])[1 + i % 4] as reaction_type,
            'text of post ' || (i // 10) as text
            from range(1000000) as t(i)) to '{path}' (header)"""
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        started = time.monotonic()
        report = import_file(conn, path, salt=SALT, now=NOW)
        seconds = time.monotonic() - started
        assert report.landed_rows == 1_000_000 and report.rejected_rows == 0
        assert len(report.landed) == 9  # 100k posts 7 s apart: 2026-10-01 ... 2026-10-09
        assert rows(conn, f"select count(*) from {INTERACTIONS}") == [(1_000_000,)]
        again = import_file(conn, path, salt=SALT, now=NOW)
        assert again.landed_rows == 0 and again.already_landed == 1_000_000
    print(f"1M rows imported in {seconds:.1f} s")
    assert seconds < 120
