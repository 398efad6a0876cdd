"""Which snapshot the site serves: a friendly 503 before the first one, and each newly published
version from the next request on, with no restart."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import BOARD, PEOPLE, fill
from web.__main__ import start_line
from web.app import create_app
from web.snapshot import publish


def test_nothing_published_is_a_503_page_that_says_what_to_run(tmp_path):
    client = TestClient(create_app(tmp_path / "serving"))
    for url in ("/", "/people/p000001", "/topics", "/perks/c-coffee", "/search?q=a"):
        r = client.get(url)
        assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
        assert "Nothing published yet" in r.text and "make run" in r.text
    r = client.get("/api/v1/people/p000001")
    assert r.status_code == 503 and "make run" in r.json()["detail"]
    assert client.get("/api/docs").status_code == 200  # the docs need no snapshot


def test_a_newly_published_version_is_served_without_restart(tmp_path):
    client = TestClient(create_app(tmp_path))
    assert client.get("/").status_code == 503
    publish(tmp_path, "v-one", fill("v-one"))
    first = client.get("/api/v1/people/p000001").json()
    assert (first["snapshot_version"], first["score"]) == ("v-one", 60.0)
    moved = [(pid, name, reg, score + 1.5 * (pid == "p000001"), *rest) for pid, name, reg, score, *rest in PEOPLE]
    publish(tmp_path, "v-two", fill("v-two", people=moved))
    second = client.get("/api/v1/people/p000001").json()
    assert (second["snapshot_version"], second["score"]) == ("v-two", 61.5)
    assert "v-two" in client.get("/people/p000001").text and "61.50" in client.get("/people/p000001").text


def test_the_start_line_names_the_snapshot_or_says_none(tmp_path):
    assert start_line(tmp_path, "127.0.0.1", 8000) == (
        f"Serving {tmp_path} (nothing published yet: run `make run`) on http://127.0.0.1:8000"
    )
    publish(tmp_path, "v-one", fill("v-one"))
    assert start_line(tmp_path, "127.0.0.1", 8001) == (
        f"Serving {tmp_path} (snapshot v-one, as of 2026-11-28) on http://127.0.0.1:8001"
    )


def test_sashes_follow_the_published_version(tmp_path):
    client = TestClient(create_app(tmp_path))
    publish(tmp_path, "v-one", fill("v-one"))
    assert ">gold</span> in" in client.get("/people/p000001").text
    board = [(t, p, *rest[:-1], "blue" if (t, p) == ("python", "p000001") else rest[-1]) for t, p, *rest in BOARD]
    publish(tmp_path, "v-two", fill("v-two", board=board))
    html = client.get("/people/p000001").text
    assert ">gold</span> in" not in html and '>blue</span> in <a class="topic" href="/topics/python"' in html
