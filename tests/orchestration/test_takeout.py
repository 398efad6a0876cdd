"""Google+ Takeout archives through the bulk import: a person's archive from the world lands exactly
its ground truth (0 lost, 0 duplicated) with and without broken post files, each broken file is a
reject naming the file inside the archive, its post number and the reason, a second import changes
nothing, and the privacy gate holds for Google+ ids linked in the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors.privacy import PrivacyGate
from orchestration.imports import INTERACTIONS, REJECTS, ImportRefused, import_file
from orchestration.takeout import is_takeout, plain_text, read_takeout
from sandbox.takeout import FAULT_KINDS, build_takeout, gplus_id
from sandbox.world import WorldConfig, build_world

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.fromisoformat("2026-11-28T12:00:00+00:00")
SALT = "test-salt"
REASONS = {"truncated": "malformed JSON: ", "no_creation_time": "missing creationTime", "no_author": "missing author"}


@pytest.fixture(scope="module")
def world():
    return build_world(WorldConfig(seed=11, persons=120, end_date=date(2026, 3, 31), days=14))


@pytest.fixture(scope="module")
def busiest(world) -> str:
    """The person with the most top-level posts: an archive with every kind of reaction."""
    mine = world.posts[world.posts.kind == "post"].merge(world.accounts[["network", "account_id", "person_id"]])
    return mine.person_id.value_counts().index[0]


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def landed(conn) -> list[tuple]:
    return conn.execute(
        f"""select network, post_id, author_account_id, epoch(posted_at)::bigint, text, reactor_account_id,
                   reaction_type, epoch(reacted_at)::bigint, partition_day
            from {INTERACTIONS} order by all"""
    ).fetchall()


def expected(truth: pd.DataFrame) -> list[tuple]:
    def epoch(ts):
        return None if pd.isna(ts) else int(ts.timestamp())

    def blank(value):
        return None if value is None or pd.isna(value) else value

    rows = [
        (r.network, r.post_id, r.author, epoch(r.post_time), r.text, blank(r.reactor), blank(r.reaction_type))
        + (epoch(r.reaction_time), r.partition_day)
        for r in truth.itertuples(index=False)
    ]
    return sorted(rows, key=lambda row: tuple((v is not None, v) for v in row))


def sort_nulls_first(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((v is not None, v) for v in row))


@pytest.mark.parametrize("faults", [0.0, 0.1])
@pytest.mark.parametrize("form", ["zip", "folder"])
def test_an_archive_lands_exactly_its_ground_truth_and_broken_files_are_rejected(
    world, busiest, conn, tmp_path, faults, form
):
    archive = build_takeout(world, busiest, faults)
    assert set(archive.truth.reaction_type.dropna()) == {"like", "reshare", "reply"}
    assert archive.truth.reaction_type.isna().any()  # posts nobody reacted to are rows too
    path = archive.write(tmp_path / ("takeout.zip" if form == "zip" else "takeout"))
    assert is_takeout(path)

    report = import_file(conn, path, salt=SALT, now=NOW)
    rows = landed(conn)
    assert sort_nulls_first(rows) == expected(archive.truth)  # 0 lost, nothing extra
    assert len(rows) == len(set(rows)) == len(archive.truth)  # 0 duplicated
    assert report.posts == len(archive.files) and report.landed_rows == len(archive.truth)

    rejects = conn.execute(f"select source_file, line, reason from {REJECTS} order by line").fetchall()
    assert report.rejected_rows == len(rejects) == len(archive.faulty)
    names = sorted(archive.files)
    if faults:
        assert len(archive.faulty) == round(faults * len(archive.files))
        assert set(archive.faulty.values()) == set(FAULT_KINDS)
    for source, line, reason in rejects:
        name = next(n for n in archive.faulty if source.endswith(n))
        assert source == (f"{path}!{name}" if form == "zip" else str(path / name))
        assert line == names.index(name) + 1  # the post's number in the archive
        assert reason.startswith(REASONS[archive.faulty[name]]), reason
    # every landed row names its post file
    sources = {s for (s,) in conn.execute(f"select distinct source_file from {INTERACTIONS}").fetchall()}
    assert {s.replace(f"{path}!", "").replace(f"{path}/", "") for s in sources} == set(names) - set(archive.faulty)

    # the same archive again: nothing changes
    before = conn.execute(f"select * exclude (fetched_at) from {INTERACTIONS} order by all").fetchall()
    rejects_before = conn.execute(f"select source_sha256, line, reason from {REJECTS} order by all").fetchall()
    again = import_file(conn, path, salt=SALT, now=NOW)
    assert again.landed_rows == 0 and again.already_landed == len(archive.truth)
    assert conn.execute(f"select * exclude (fetched_at) from {INTERACTIONS} order by all").fetchall() == before
    assert conn.execute(f"select source_sha256, line, reason from {REJECTS} order by all").fetchall() == rejects_before


def test_the_archive_is_deterministic_and_google_plus_shaped(world, busiest):
    one, two = build_takeout(world, busiest, 0.1), build_takeout(world, busiest, 0.1)
    assert one.files == two.files and one.faulty == two.faulty
    assert one.author == gplus_id(world, busiest) and one.author.startswith("users/1") and len(one.author) == 27
    post = json.loads(next(data for name, data in one.files.items() if name not in one.faulty))
    assert post["activityId"].startswith("z1") and post["author"]["resourceName"] == one.author
    assert datetime.strptime(post["creationTime"], "%Y-%m-%d %H:%M:%S%z").year == 2019
    keys = set(
        (ROOT / "tests" / "fixtures" / "reference" / "googleplus" / "unique_keys_in_takeout_posts.txt")
        .read_text()
        .split()
    )
    assert _key_paths(post) <= keys


def _key_paths(value, prefix: str = "") -> set[str]:
    """The key paths of a post in the reference list's notation (`comments[].author.resourceName`)."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | _key_paths(item, path)
        return paths
    if isinstance(value, list):
        return {f"{prefix}[]"}.union(*(_key_paths(item, f"{prefix}[]") for item in value))
    return set()


def post_file(folder: Path, name: str, document) -> None:
    path = folder / "Takeout" / "Google+ Stream" / "Posts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))


def test_a_reaction_without_its_person_is_rejected_alone_and_html_becomes_text(conn, tmp_path):
    who = {"resourceName": "users/100000000000000000001", "displayName": "A"}
    post_file(
        tmp_path,
        "20190101 - a.json",
        {
            "activityId": "z1aaa",
            "creationTime": "2019-01-01 10:00:00+0000",
            "author": who,
            "content": "Fish &amp; chips<br>on <b>Friday</b> <a class='ot-hashtag' href='x'>#food</a>",
            "plusOnes": [{"plusOner": {"resourceName": "users/2"}}, {"plusOner": {"displayName": "no id"}}],
            "reshares": [{"resharer": {"resourceName": "users/3"}}],
            "comments": [
                {"creationTime": "2019-01-02 09:00:00+0000", "author": {"resourceName": "users/4"}, "content": "hi"},
                {"creationTime": "2019-01-02 09:30:00+0000", "content": "who?"},
                {"creationTime": "2019-01-02 10:00:00+0000", "author": {"resourceName": "users/4"}, "content": "2nd"},
            ],
        },
    )
    post_file(tmp_path, "20190102 - b.json", {"activityId": "z1bbb", "creationTime": "2019-01-02", "author": who})
    post_file(tmp_path, "20190103 - c.json", "[1, 2]")
    (tmp_path / "Takeout" / "Google+ Stream" / "Posts" / "photo.jpg").write_bytes(b"\xff\xd8")  # media: not a post

    report = import_file(conn, tmp_path, salt=SALT, now=NOW)
    assert report.posts == 3
    rows = conn.execute(
        f"select post_id, reactor_account_id, reaction_type, reacted_at, text from {INTERACTIONS} order by all"
    ).fetchall()
    text = "Fish & chips\non Friday #food"
    assert [r[:3] for r in rows] == [
        ("z1aaa", "users/2", "like"),
        ("z1aaa", "users/3", "reshare"),
        ("z1aaa", "users/4", "reply"),
        ("z1bbb", None, None),
    ]
    assert rows[2][3].hour == 9 and rows[0][4] == text == plain_text(text.replace("\n", "<br/>"))
    rejects = conn.execute(f"select line, reason from {REJECTS} order by all").fetchall()
    assert rejects == [
        (1, "comments[1]: missing author.resourceName"),
        (1, "plusOnes[1]: missing plusOner.resourceName"),
        (3, "malformed post: not a JSON object"),
    ]


def test_what_is_not_a_takeout_is_refused(conn, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportRefused, match="no such file"):
        import_file(conn, tmp_path / "empty")
    assert read_takeout(tmp_path / "empty").posts == 0 and not is_takeout(tmp_path / "empty")


def registry(conn, people: list[tuple[str, bool]], links: list[tuple[str, str]]) -> None:
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
    for person, opted_out in people:
        conn.execute(
            "insert into raw.platform_profiles values (?, 'N', '1970-01-01', 'L', ?, false, false, '2019-01-01',"
            " now(), '{}')",
            [person, opted_out],
        )
    for person, handle in links:
        conn.execute(
            "insert into raw.platform_links values (?, 'googleplus', ?, '2019-01-01', now(), '{}')", [person, handle]
        )


def test_an_opted_out_persons_google_plus_id_never_lands_as_author_and_is_pseudonymised_as_reactor(
    world, busiest, conn, tmp_path
):
    archive = build_takeout(world, busiest)
    reactor = archive.truth.reactor.dropna().value_counts().index[0]
    reactor_person = next(p for p in world.persons.person_id if gplus_id(world, p) == reactor)
    other = next(p for p in world.persons.person_id if p not in (busiest, reactor_person))
    other_archive = build_takeout(world, other)
    assert len(other_archive.truth)
    registry(
        conn,
        [(busiest, False), (reactor_person, True), (other, True)],
        [(busiest, archive.author), (reactor_person, reactor.upper()), (other, other_archive.author)],
    )

    report = import_file(conn, archive.write(tmp_path / "measured.zip"), salt=SALT, now=NOW)
    # the opted-out reactor, and the opted-out `other` where they reacted to the measured person
    hidden = archive.truth.reactor.isin({reactor, other_archive.author})
    assert report.pseudonymised == hidden.sum() > 0 and report.withheld == 0
    gate = PrivacyGate("googleplus", frozenset(), SALT)
    counts = dict(conn.execute(f"select reactor_account_id, count(*) from {INTERACTIONS} group by 1").fetchall())
    assert counts[gate.pseudonym(reactor)] == (archive.truth.reactor == reactor).sum()
    assert reactor not in counts and other_archive.author not in counts

    withheld = import_file(conn, other_archive.write(tmp_path / "opted_out.zip"), salt=SALT, now=NOW)
    assert withheld.withheld == len(other_archive.truth) and withheld.landed_rows == 0
    values = {v for row in conn.execute(f"select * from {INTERACTIONS}").fetchall() for v in row if isinstance(v, str)}
    assert reactor not in values and other_archive.author not in values
    assert conn.execute(f"select count(*) from {INTERACTIONS}").fetchall() == [(len(archive.truth),)]


def test_make_import_takes_an_archive_in_one_command(world, busiest, tmp_path):
    path = build_takeout(world, busiest, 0.1).write(tmp_path / "takeout.zip")
    env = {**os.environ, "KLOUT_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "orchestration.cli", "import", str(path)]
    first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "Google+ Takeout" in first.stdout and "raw.import_rejects" in first.stdout
    second = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    total = next(line for line in second.stdout.splitlines() if line.strip().startswith("total"))
    assert total.split()[1] == "0" and "already landed" in total
