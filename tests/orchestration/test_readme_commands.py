"""The README's commands, run the way a user runs them: `make <target>` as a subprocess in a fresh
copy of the repository, with its own DAGSTER_HOME and warehouse, nothing activated and the venv
not on PATH. Only the world is smaller and the days fewer.

These are the tests that catch a broken front door (a run config the executor refuses, a UI whose
code location cannot find dbt), which in-process tests of the Definitions cannot see.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.readme

REPO = Path(__file__).resolve().parents[2]
DAYS = 3
PERSONS = "40"
TODAY = datetime.now(UTC).date()
FIRST, LAST = TODAY - timedelta(days=DAYS), TODAY - timedelta(days=1)
GROUPS = {"raw", "privacy", "staging", "intermediate", "marts", "scores", "topics", "formula_review"}


def repo_copy(dest: Path) -> Path:
    """The repository's files as a clone would have them (tracked and new, not ignored), sharing
    this checkout's installed .venv."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(REPO / ".venv")
    return dest


def user_env(**extra: str) -> dict[str, str]:
    """A newcomer's shell: no venv activated or on PATH, no project variables, not inside make."""
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if "/.venv/" not in p + "/" and "/venv/" not in p + "/"
    )
    drop = {"VIRTUAL_ENV", "DAGSTER_HOME", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("KLOUT_", "PYTEST_"))}
    return {**env, "PATH": path, "KLOUT_SANDBOX_PERSONS": PERSONS, **extra}


def make(repo: Path, *args: str, timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    # -o: the shared .venv is installed already; never let the copy reinstall it
    return subprocess.run(
        ["make", "-o", ".venv/.installed", *args],
        cwd=repo,
        env=user_env(**env),
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return repo_copy(tmp_path_factory.mktemp("newcomer"))


@pytest.fixture(scope="module")
def ran(repo):
    return make(repo, "run", f"DAYS={DAYS}")


def test_make_run_prints_the_leaderboard_and_fills_the_marts(repo, ran):
    assert ran.returncode == 0, output(ran)
    assert "Top 10 influencers on" in ran.stdout, output(ran)
    assert re.search(r"Run \S+ succeeded in", ran.stdout), output(ran)
    with duckdb.connect(str(repo / "data" / "warehouse.duckdb"), read_only=True) as conn:
        days = conn.execute("select min(day), max(day), count(*) from marts.scores").fetchone()
        leaders = conn.execute("select count(*) from marts.leaderboard where day = ?", [LAST]).fetchone()[0]
    assert (days[0], days[1]) == (FIRST, LAST) and days[2] > 0
    assert leaders > 0
    assert re.search(
        r"^Site and API: http://127\.0\.0\.1:8000/ \(start it with `make serve`; snapshot \w+, as of ", ran.stdout, re.M
    )


def test_make_run_prints_a_line_per_step_not_dagsters_event_stream(repo, ran):
    lines = (ran.stdout + ran.stderr).splitlines()
    assert len(lines) < 90, output(ran)
    assert not [line for line in lines if " - DEBUG - " in line or "STEP_START" in line], output(ran)
    for step in (
        "raw_platform",
        "raw_networks",
        "dbt_models",
        "marts__scores_and_influence_graph",
        "check gx_scores",
    ):
        assert re.search(rf"^\s+ok\s+{re.escape(step)}\s+{FIRST}\.\.\.{LAST}\s+[\d.]+ s", ran.stdout, re.M), step
    # the full stream went to the run's own log in DAGSTER_HOME
    logs = list((repo / ".dagster_home" / "logs").glob("*.log"))
    assert logs and "STEP_SUCCESS" in logs[0].read_text()


def test_make_rescore_then_compare_a_new_formula_version(repo, ran, tmp_path):
    assert ran.returncode == 0, output(ran)
    v1 = (repo / "domain" / "formulas" / "v1.yaml").read_text()
    (tmp_path / "v9.yaml").write_text(v1.replace("version: v1", "version: v9").replace("reach: 1.0", "reach: 2.0"))
    window = ["VERSION=v9", f"FROM={FIRST}", f"TO={LAST}"]
    rescored = make(repo, "rescore", *window, KLOUT_FORMULAS_DIR=str(tmp_path))
    assert rescored.returncode == 0, output(rescored)
    compared = make(repo, "compare", *window, KLOUT_FORMULAS_DIR=str(tmp_path))
    assert compared.returncode == 0, output(compared)
    assert "spearman" in compared.stdout and "Biggest movers" in compared.stdout, output(compared)
    with duckdb.connect(str(repo / "data" / "warehouse.duckdb"), read_only=True) as conn:
        versions = dict(conn.execute("select formula_version, count(*) from marts.scores group by 1").fetchall())
        compared_days = conn.execute(
            "select count(distinct day) from marts.formula_comparison where candidate = 'v9'"
        ).fetchone()[0]
    assert versions.get("v1") and versions.get("v9") == versions["v1"]
    assert compared_days == DAYS


def test_a_failed_run_names_the_step_the_error_and_the_full_log(repo, ran):
    unreachable = "http://127.0.0.1:9"  # nothing listens there: every request is refused at once
    failed = make(
        repo,
        "run",
        "DAYS=1",
        KLOUT_MODE="live",
        MASTODON_BASE_URL=unreachable,
        BLUESKY_BASE_URL=unreachable,
        KLOUT_PUBLIC_ACCOUNTS="mastodon:nobody,bluesky:nobody.bsky.social",
    )
    assert failed.returncode != 0
    assert re.search(r"FAILED at step raw_networks .*(every account failed|127\.0\.0\.1)", failed.stdout), output(
        failed
    )
    run_id = re.search(r"make logs RUN=(\S+)", failed.stdout).group(1)
    shown = make(repo, "logs", f"RUN={run_id}")
    assert shown.returncode == 0, output(shown)
    assert "STEP_FAILURE" in shown.stdout and "Traceback" not in failed.stdout
    assert "TransportError" in shown.stdout and "127.0.0.1" in shown.stdout  # the traceback, in the log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WORKSPACE_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { assetGroups { groupName } } } } } } } }"""


def ask(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": WORKSPACE_QUERY}).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.load(answer)
    except OSError:
        return None


def test_make_ui_loads_the_code_location_with_every_asset_group(repo):
    port = free_port()
    with started_make(repo, "ui", f"UI_PORT={port}") as (ui, log):
        entry, deadline = None, time.monotonic() + 240
        while time.monotonic() < deadline and ui.poll() is None:
            answer = ask(port)
            entries = (answer or {}).get("data", {}).get("workspaceOrError", {}).get("locationEntries") or []
            entry = entries[0] if entries else None
            if entry and entry["loadStatus"] == "LOADED":
                break
            time.sleep(2)
        assert entry is not None, f"the UI never answered on port {port}:\n{log.read_text()[-3000:]}"
        location = entry["locationOrLoadError"]
        assert entry["name"] == "open_klout"
        assert location["__typename"] == "RepositoryLocation", f"{location.get('message')}\n{log.read_text()[-3000:]}"
        groups = {g["groupName"] for repo_ in location["repositories"] for g in repo_["assetGroups"]}
        assert GROUPS <= groups


@contextmanager
def started_make(repo: Path, target: str, *args: str):
    """`make <target>` running in the background as the user starts it, in its own process group
    (log in <repo>/<target>.log); everything it started is stopped on the way out."""
    log = repo / f"{target}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["make", "-o", ".venv/.installed", target, *args],
            cwd=repo,
            env=user_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop `make ui` and everything `dagster dev` started (webserver, daemon, code servers)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers that outlived their parent
    except ProcessLookupError:
        pass
    process.wait()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_make_serve_shows_the_leaderboard_and_profiles_of_the_last_run(repo, ran):
    assert ran.returncode == 0, output(ran)
    with duckdb.connect(str(repo / "data" / "warehouse.duckdb"), read_only=True) as conn:
        top = conn.execute(
            "select person_id from marts.leaderboard where day = ? order by rank limit 1", [LAST]
        ).fetchone()
    port = free_port()
    with started_make(repo, "serve", f"SERVE_PORT={port}") as (serve, log):
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                status, home = get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()[-3000:]
        assert f'href="/people/{top[0]}"' in home
        assert get(f"http://127.0.0.1:{port}/people/{top[0]}")[0] == 200
        assert get(f"http://127.0.0.1:{port}/api/v1/people/{top[0]}")[0] == 200
        assert f"http://127.0.0.1:{port}" in log.read_text()  # it says where


def test_make_export_then_make_erase_a_person(repo, ran):
    assert ran.returncode == 0, output(ran)
    warehouse = str(repo / "data" / "warehouse.duckdb")
    with duckdb.connect(warehouse, read_only=True) as conn:
        person = conn.execute(
            "select person_id from marts.leaderboard where day = ? and person_id like 'p%' order by rank limit 1",
            [LAST],
        ).fetchone()[0]
    exported = make(repo, "export", f"PERSON={person}")
    assert exported.returncode == 0, output(exported)
    path = Path(re.search(r"written to (\S+\.json)", exported.stdout).group(1))
    assert json.loads(path.read_text())["tables"]["marts.scores"]
    erased = make(repo, "erase", f"PERSON={person}")
    assert erased.returncode == 0, output(erased)
    assert re.search(r"erase-\S+: \d+ rows forgotten", erased.stdout), output(erased)
    with duckdb.connect(warehouse, read_only=True) as conn:
        left = conn.execute("select count(*) from marts.scores where person_id = ?", [person]).fetchone()[0]
        audited = conn.execute("select list(kind order by requested_at) from privacy.requests").fetchone()[0]
    assert left == 0 and audited == ["export", "erase"]
    pointer = json.loads((repo / "data" / "serving" / "current.json").read_text())
    with duckdb.connect(str(repo / "data" / "serving" / pointer["file"]), read_only=True) as snapshot:
        assert snapshot.execute("select count(*) from people where person_id = ?", [person]).fetchone()[0] == 0


def test_the_code_location_loads_under_dagster_dev_without_the_venv_on_path(repo):
    """`.venv/bin/dagster dev` started by hand, not through make: the dbt parse that dagster-dbt
    runs under `dagster dev` must find the venv's dbt without PATH's help."""
    (repo / "dbt_project" / "target" / "manifest.json").unlink(missing_ok=True)
    (repo / ".dagster_home_validate").mkdir(exist_ok=True)
    checked = subprocess.run(
        [str(repo / ".venv" / "bin" / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=repo,
        env=user_env(DAGSTER_IS_DEV_CLI="1", DAGSTER_HOME=str(repo / ".dagster_home_validate")),
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert checked.returncode == 0, output(checked)
    assert "Validation successful for code location open_klout" in checked.stdout + checked.stderr, output(checked)


def test_make_import_lands_a_file_and_reports_its_rejects(repo, ran):
    """`make import FILE=...` as the README shows it, after `make run` (the warehouse exists and no
    run holds it): good rows land, bad ones are reported, and importing again changes nothing."""
    assert ran.returncode == 0, output(ran)
    fixture = repo / "tests" / "fixtures" / "imports" / "interactions_malformed.csv"
    first = make(repo, "import", f"FILE={fixture}")
    assert first.returncode == 0, output(first)
    assert "raw.import_rejects" in first.stdout, output(first)
    with duckdb.connect(str(repo / "data" / "warehouse.duckdb"), read_only=True) as conn:
        landed = conn.execute("select count(*) from raw.import_interactions").fetchone()[0]
        rejects = conn.execute("select count(*) from raw.import_rejects").fetchone()[0]
    again = make(repo, "import", f"FILE={fixture}")
    assert again.returncode == 0, output(again)
    with duckdb.connect(str(repo / "data" / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.import_interactions").fetchone()[0] == landed > 0
        assert conn.execute("select count(*) from raw.import_rejects").fetchone()[0] == rejects > 0
