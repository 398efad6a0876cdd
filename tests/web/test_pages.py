"""The site's pages: every kind renders, unknown or hidden ids are 404, strangers' text is inert,
nothing is fetched from elsewhere, and only GET is answered."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import AS_OF, HOSTILE_HANDLE, HOSTILE_NAME, HOSTILE_TOPIC, PEOPLE

PAGES = [
    "/",
    "/?offset=2",
    "/search?q=ada",
    "/search?q=",
    "/people/p000001",
    "/people/p000002",
    "/people/bluesky:did:plc:abc",
    "/people/khoros:community.example:42",
    "/people/p000005",
    "/topics",
    "/topics/python",
    "/topics/evil",
    "/topics/django",
    "/perks",
    "/perks/c-coffee",
    "/perks/c-old",
    "/api/docs",
]
NOT_FOUND = ["/people/p999999", "/people/p000001x", "/topics/nope", "/perks/nope", "/no/such/page"]


class Links(HTMLParser):
    """Every URL a page points at (href, src, action)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("href", "src", "action") and v is not None]


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("url", PAGES)
def test_every_page_kind_renders_with_the_as_of_day_and_formula_in_its_footer(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    footer = r.text.split('<footer class="site">', 1)[1]
    assert str(AS_OF) in footer and "v1" in footer and "v-test" in footer and 'href="/api/docs"' in footer


@pytest.mark.parametrize("url", NOT_FOUND)
def test_unknown_or_hidden_ids_are_a_404_page(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert "Not found" in r.text and str(AS_OF) in r.text


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/", "/people/p000001", "/topics/python", "/perks/c-coffee", "/search?q=a"])
def test_pages_are_read_only(client, method, url):
    assert getattr(client, method)(url).status_code == 405


def test_a_hostile_name_and_handle_render_as_text(client):
    html = client.get("/people/p000002").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html  # the handle, escaped
    assert HOSTILE_NAME not in html and HOSTILE_HANDLE not in html


@pytest.mark.parametrize("url", PAGES + ["/search?q=script", "/search?q=<script>", "/search?q=img"])
def test_no_page_carries_a_script_or_a_strangers_markup(client, url):
    html = client.get(url).text
    for raw in (HOSTILE_NAME, HOSTILE_HANDLE, HOSTILE_TOPIC, "<script", "<img", "onerror=alert"):
        if raw == "onerror=alert":  # may appear as escaped text, never inside a tag
            assert not re.search(r"<[^>]*onerror", html)
        else:
            assert raw not in html, (url, raw)


def test_the_hostile_person_is_escaped_wherever_listed(client):
    for url in ("/", "/search?q=script", "/people/p000001", "/topics/python"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(url).text, url
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in client.get("/topics/evil").text


@pytest.mark.parametrize("url", PAGES + ["/", "/search?q=a"])
def test_nothing_is_fetched_or_linked_from_another_host(client, url):
    html = client.get(url).text
    for target in links(html):
        parts = urlsplit(target)
        assert not parts.scheme and not parts.netloc, (url, target)
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", html, re.I)


def test_the_stylesheet_is_served_and_fetches_nothing():
    css = (Path(__file__).resolve().parents[2] / "web" / "static" / "site.css").read_text()
    assert "http" not in css and "@import" not in css and "url(" not in css


def test_the_stylesheet_is_served_by_the_app(client):
    r = client.get("/static/site.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]
    assert client.post("/static/site.css").status_code == 405


def test_the_icon_is_ours_so_browsers_ask_for_no_favicon_ico(client):
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").text
    assert client.get("/static/favicon.svg").status_code == 200


def test_every_local_link_resolves(client):
    """A crawl of the site from the leaderboard: no link leads to a 404 (never to a hidden person)."""
    seen, todo = set(), ["/"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200, url
        if r.headers["content-type"].startswith("text/html"):
            todo += [u.split("#")[0] for u in links(r.text) if u.startswith("/") and u.split("#")[0]]
    assert {"/people/p000001", "/people/bluesky:did:plc:abc", "/topics/python", "/perks/c-coffee"} <= seen


def test_profile_shows_scores_reasons_topics_sashes_and_influence(client):
    html = client.get("/people/p000001").text
    assert "Ada Lovelace" in html and "ada.bsky.social" in html and "60.00" in html
    assert "+1.20 points" in html and "rank 1" in html
    for reason in (
        "+1.20 points from Bluesky reach",
        "-0.35 points from Mastodon amplification",
        "+0.35 points from Mastodon reach",
    ):
        assert reason in html
    # subscores in points (sums over networks) and each network's contribution
    assert re.search(r"reach</th><td[^>]*>35.00 points", html)
    assert re.search(r"network impact</th><td[^>]*>9.00 points", html)
    assert re.search(r"<td>Bluesky</td>\s*<td[^>]*>35.00</td>", html)
    assert re.search(r"<td>Mastodon</td>\s*<td[^>]*>25.00</td>", html)
    # topics with +K and the expert badge, sashes by name
    assert re.search(
        r'href="/topics/python">Python</a> <span class="badge expert">expert</span> <span class="kplus">\+K 4', html
    )
    assert '>gold</span> in <a class="topic" href="/topics/python"' in html
    assert '>blue</span> in <a class="topic" href="/topics/programming"' in html
    # who influences her, whom she influences, linked (colons kept in the path)
    by = html.split("Influenced by", 1)[1].split("<h2>Influences</h2>", 1)[0]
    assert by.index('href="/people/bluesky:did:plc:abc"') < by.index('href="/people/p000002"')
    assert 'href="/people/khoros:community.example:42"' in html.split("<h2>Influences</h2>", 1)[1]
    assert 'id="history-plot"' in html


def test_profile_shows_the_discounts_and_kplus_in_points_beside_the_subscores(client):
    html = client.get("/people/p000002").text
    subscores = html.split("<h2>Subscores</h2>", 1)[1].split("</table>", 1)[0]
    assert re.search(r"engagement-ring discount</th><td[^>]*>-4.10 points", subscores)
    assert re.search(r"\+K-clique discount</th><td[^>]*>-0.30 points", subscores)
    assert subscores.index("engagement-ring") < subscores.index("+K-clique")
    assert re.search(r"accepted \+K</th><td[^>]*>\+0.50 points", subscores)  # +K's points: subscores + these = score
    assert re.search(r"reach</th><td[^>]*>45.00 points", subscores)
    assert "-4.10 points from the engagement-ring discount" in html.split("Why your score changed", 1)[1]
    ada = client.get("/people/p000001").text
    assert "discount" not in ada and "accepted +K" not in ada  # none, no line


def test_sashes_are_named_and_new_people_have_no_delta(client):
    assert ">blue and gold</span>" in client.get("/people/p000002").text
    assert "-0.50 points" in client.get("/people/p000002").text
    cleo = client.get("/people/p000005").text
    assert "new today" in cleo and "No score history" in cleo and "history-plot" not in cleo


def test_topic_page_shows_ontology_board_sashes_and_kplus(client):
    html = client.get("/topics/python").text
    onto = html.split('<dl class="ontology">', 1)[1].split("</dl>", 1)[0]
    assert 'href="/topics/programming">Programming' in onto.split("Sub-topics")[0]
    assert 'href="/topics/django">Django' in onto.split("Sub-topics")[1]
    board = html.split("<h2>Leaderboard</h2>", 1)[1].split("<h2>", 1)[0]
    assert board.index("Ada Lovelace") < board.index("&lt;script&gt;") < board.index("Bob Sky")
    assert ">gold</span>" in board and ">blue and gold</span>" in board
    assert "9.50" in board and "7.25" in board
    kplus = html.split("Most +K", 1)[1]
    assert kplus.index("Ada Lovelace") < kplus.index("+K 4") < kplus.index("&lt;script&gt;") < kplus.index("+K 1")
    assert "a top-level topic" in client.get("/topics/programming").text


def test_perk_pages_show_requirements_and_counts_but_nobody(client):
    for url in ("/perks", "/perks/c-coffee", "/perks/c-old"):
        html = client.get(url).text
        assert "/people/" not in html
        for _, name, *_ in PEOPLE:
            assert name not in html and name.replace("<", "&lt;").replace(">", "&gt;") not in html
    html = client.get("/perks/c-coffee").text
    assert "Acme Coffee" in html and "Free espresso for Python people" in html
    assert '<dd class="qualifying">3</dd>' in html
    assert (
        'href="/topics/python">Python</a>' in html and "gone-topic" in html and 'href="/topics/gone-topic"' not in html
    )
    assert (
        "40.00" in html and "Paris, Lyon" in html and "2026-11-01" in html and "2026-12-31" in html and ">50<" in html
    )
    assert "running" in html


def test_search_by_name_or_handle_case_insensitive_with_wildcards_literal(client):
    def found(q):
        html = client.get("/search", params={"q": q}).text
        return set(re.findall(r'href="/people/([^"]+)"', html))

    assert found("ADA") == {"p000001"}
    assert found("bsky.social") == {"p000001", "bluesky:did:plc:abc"}  # handles
    assert found("kayhost") == {"khoros:community.example:42"}
    assert found("%") == {"p000006"} and found("_") == {"p000006"}  # LIKE wildcards are literal
    assert found("zzz") == set() and found("   ") == set()


def test_templates_autoescape_and_never_mark_data_safe():
    from web.app import _environment

    env = _environment()
    assert env.autoescape is True
    for name in env.list_templates():
        source = Path(env.loader.searchpath[0], name).read_text()
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source, name
    rendered = env.get_template("search.html").render(q="<b>x</b>", results=[], meta=None)
    assert "<b>x</b>" not in rendered and "&lt;b&gt;x&lt;/b&gt;" in rendered
