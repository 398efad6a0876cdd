"""The site and the API on what a daily run really published: the snapshot it swapped in, numbers
equal to the marts', nobody unmeasured anywhere, and a real browser (the distribution's
Chromium, driven by Playwright) walking leaderboard -> profile -> topic -> profile.

One pipeline run per module; the browser walk is marked `browser` so it can run alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient

from orchestration.definitions import build_definitions
from orchestration.serving_tables import publish_serving_snapshot
from tests.orchestration.pipeline import WORLD_END, materialize_range, small_social
from web.app import create_app
from web.snapshot import read_pointer

SALT = "open-klout"
FIRST = WORLD_END - timedelta(days=2)
SCREENSHOTS = os.getenv("KLOUT_SCREENSHOTS")  # e.g. docs/screenshots: where the README's pictures come from


@pytest.fixture(scope="module")
def run(tmp_path_factory, dbt_manifest):
    path = tmp_path_factory.mktemp("site") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KLOUT_WAREHOUSE", str(path))
        result = materialize_range(build_definitions(small_social()), FIRST, WORLD_END)
    return path, path.parent / "serving", result


@pytest.fixture(scope="module")
def marts(run):
    path, _, _ = run
    with duckdb.connect(str(path), read_only=True) as conn:
        day = WORLD_END
        yield {
            "scores": conn.execute("select * from marts.scores where day = ? and formula_version = 'v1'", [day]).df(),
            "history": conn.execute("select person_id, day, score from marts.scores where formula_version = 'v1'").df(),
            "changes": conn.execute("select * from marts.score_changes where day = ?", [day]).df(),
            "leaderboard": conn.execute(
                "select * from marts.leaderboard where day = ? and formula_version = 'v1' order by rank", [day]
            ).df(),
            "topics": conn.execute("select * from marts.person_topics where day = ?", [day]).df(),
            "boards": conn.execute("select * from marts.topic_leaderboards where day = ?", [day]).df(),
            "graph": conn.execute("select * from marts.influence_graph where day = ?", [day]).df(),
        }


@pytest.fixture(scope="module")
def client(run):
    _, serving, _ = run
    with TestClient(create_app(serving)) as c:
        yield c


def person_url(person_id: str) -> str:
    return "/people/" + quote(person_id, safe=":")


def test_the_daily_run_publishes_its_last_day_as_one_swapped_in_file(run):
    _, serving, result = run
    pointer = read_pointer(serving)
    assert pointer["as_of"] == WORLD_END.isoformat() and pointer["formula_version"] == "v1"
    assert sorted(p.name for p in serving.glob("*.duckdb")) == [pointer["file"]]  # nothing half-built, no old file
    materialized = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "serving/snapshot"
    ]
    assert materialized[-1].metadata["version"].value == pointer["version"]


def test_publishing_the_same_warehouse_again_swaps_nothing(run, tmp_path):
    path, serving, _ = run
    copy = tmp_path / "w.duckdb"
    shutil.copy(path, copy)
    with duckdb.connect(str(copy)) as conn:
        again = publish_serving_snapshot(conn, SALT, serving)
    assert not again.replaced and again.version == read_pointer(serving)["version"]


def test_the_api_numbers_equal_the_marts_for_everyone_on_the_leaderboard(client, marts):
    scores = marts["scores"].set_index("person_id")
    changes = marts["changes"].set_index("person_id")
    board = marts["leaderboard"]
    assert len(board) >= 5
    api_board = client.get("/api/v1/leaderboard").json()
    assert [(r["person_id"], r["rank"], r["score"]) for r in api_board["leaderboard"]] == list(
        zip(board["person_id"], board["rank"], board["score"])
    )
    networks = sorted({c.removesuffix("_contribution") for c in scores.columns if c.endswith("_contribution")})
    for person in board["person_id"]:
        me = client.get(f"/api/v1/people/{person}").json()
        assert me["formula_version"] == "v1" and me["as_of"] == WORLD_END.isoformat()
        assert me["score"] == scores.loc[person, "score"]
        assert me["delta"] == pytest.approx(changes.loc[person, "delta"], nan_ok=True)
        contributions = {n["network"]: n["points"] for n in me["networks"]}
        for network in networks:
            assert contributions.get(network, 0.0) == pytest.approx(scores.loc[person, f"{network}_contribution"])
        history = client.get(f"/api/v1/people/{person}/history").json()["history"]
        mine = marts["history"][marts["history"]["person_id"] == person].sort_values("day")
        assert [(h["day"], h["score"]) for h in history] == [
            (pd.Timestamp(d).date().isoformat(), s) for d, s in zip(mine["day"], mine["score"])
        ]
        topics = client.get(f"/api/v1/people/{person}/topics").json()["topics"]
        assert {t["topic_slug"] for t in topics} == set(marts["topics"].query("person_id == @person")["topic_slug"])
        influencers = client.get(f"/api/v1/people/{person}/influencers").json()["influencers"]
        graph = marts["graph"].query("person_id == @person and direction == 'influenced_by'")
        shown = {o for o in graph["other_person_id"] if client.get(f"/api/v1/people/{o}").status_code == 200}
        assert {i["person_id"] for i in influencers} == shown  # the mart's, less the people the site hides


def test_each_topic_leaderboard_equals_the_mart(client, marts):
    boards = marts["boards"]
    for slug in sorted(set(boards["topic_slug"]))[:10]:
        api = client.get(f"/api/v1/topics/{slug}/leaderboard").json()
        mart = boards[boards["topic_slug"] == slug]
        assert {(r["person_id"], r["sash"]) for r in api["leaderboard"]} == {
            (p, s if isinstance(s, str) else None) for p, s in zip(mart["person_id"], mart["sash"])
        }


def test_every_leaderboard_person_has_a_profile_with_a_plot_and_points(client, marts):
    for person in marts["leaderboard"]["person_id"]:
        page = client.get(person_url(person))
        assert page.status_code == 200, person
        assert "<polyline" in page.text and "points" in page.text


# ---------------------------------------------------------------------------- privacy
def hide_people(path: Path, tmp_path: Path, marts) -> tuple[Path, dict[str, str]]:
    """A copy of the warehouse where three leaderboard people became unpublishable after the run:
    one opted out, one turned out to be a minor, one unregistered account went private."""
    copy = tmp_path / "hidden.duckdb"
    shutil.copy(path, copy)
    board = list(marts["leaderboard"]["person_id"])
    registered = [p for p in board if p.startswith("p")]
    unregistered = [p for p in marts["scores"]["person_id"] if not p.startswith("p")]
    hidden = {registered[0]: "opted_out", registered[1]: "minor", unregistered[0]: "private"}
    with duckdb.connect(str(copy)) as conn:
        for person, why in hidden.items():
            if why == "private":  # as if the network said so in the account's latest snapshot
                conn.execute(
                    "update intermediate.int_network_accounts set is_private = true where account_key = ?", [person]
                )
                continue
            conn.execute(
                """insert into raw.platform_profiles by name
                   select * replace (partition_day + 1 as partition_day,
                                     (opted_out or ? = 'opted_out') as opted_out,
                                     case when ? = 'minor' then date '2015-01-01' else birth_date end as birth_date)
                   from raw.platform_profiles where person_id = ?
                   qualify row_number() over (order by partition_day desc) = 1""",
                [why, why, person],
            )
    return copy, hidden


def test_nobody_unpublishable_appears_in_any_table_page_or_answer(run, marts, tmp_path):
    path, _, _ = run
    copy, hidden = hide_people(path, tmp_path, marts)
    serving = tmp_path / "serving"
    with duckdb.connect(str(copy)) as conn:
        publish_serving_snapshot(conn, SALT, serving)
    snapshot = serving / read_pointer(serving)["file"]
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        columns = conn.execute(
            "select table_name, column_name from duckdb_columns() where not internal and data_type = 'VARCHAR'"
        ).fetchall()
        for table, column in columns:
            found = conn.execute(f'select count(*) from {table} where "{column}" in ?', [list(hidden)]).fetchone()[0]
            assert found == 0, (table, column)
    with TestClient(create_app(serving)) as c:
        for person in hidden:
            assert c.get(person_url(person)).status_code == 404
            assert c.get(f"/api/v1/people/{person}").status_code == 404
        pages = [c.get(u).text for u in ("/", "/api/v1/leaderboard", "/topics", "/perks")]
        for person in hidden:
            assert not any(person in p for p in pages)


# ---------------------------------------------------------------------------- a real browser
def chromium() -> str:
    found = os.getenv("KLOUT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("the browser tests need the distribution's Chromium: `make browser` installs it")
    return found


@pytest.fixture(scope="module")
def site(run):
    """The app served by uvicorn on a free port, the way `make serve` serves it."""
    _, serving, _ = run
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(serving), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the site did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def navigated_away(request) -> bool:
    """The browser fetches the favicon on its own, after the page; the next navigation cancels it
    when it is still pending (net::ERR_ABORTED on a loaded machine). Not a failure of the site."""
    return request.url.endswith("/favicon.svg") and request.failure == "net::ERR_ABORTED"


@pytest.mark.browser
def test_a_browser_walks_the_site_with_no_console_error(site, marts, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("requestfailed", lambda r: None if navigated_away(r) else problems.append(f"request failed: {r.url}"))

        def visit(url: str, shot: str | None = None):
            response = page.goto(url)
            assert response.status == 200, url
            if shot:
                page.screenshot(path=str(shots / f"{shot}.png"), full_page=True)

        visit(site + "/", "leaderboard")
        first = marts["leaderboard"]["person_id"].iloc[0]
        page.click(f'a[href="{person_url(first)}"]')
        page.wait_for_load_state()
        assert page.url.endswith(person_url(first))
        plot = page.locator("svg polyline").first
        box = plot.bounding_box()
        assert box and box["width"] > 50, "the history plot is not drawn"  # a steady score draws a flat line
        page.screenshot(path=str(shots / "profile.png"), full_page=True)

        topic_link = page.locator('a[href^="/topics/"]').first
        topic_link.click()
        page.wait_for_load_state()
        assert "/topics/" in page.url
        page.screenshot(path=str(shots / "topic.png"), full_page=True)
        page.locator('a[href^="/people/"]').first.click()
        page.wait_for_load_state()
        assert "/people/" in page.url and page.locator("svg polyline").count() >= 1

        visit(site + "/perks")
        perk = page.locator('a[href^="/perks/"]').first
        if perk.count():
            perk.click()
            page.wait_for_load_state()
            page.screenshot(path=str(shots / "perk.png"), full_page=True)
        visit(site + "/api/docs")
        visit(site + "/search?q=" + quote(marts["leaderboard"]["person_id"].iloc[1]))
        browser.close()
    assert not problems, problems
