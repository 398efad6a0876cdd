from datetime import UTC, datetime, timedelta

import pytest
from connector_helpers import (
    BLUESKY,
    MASTODON,
    b_did,
    b_post,
    bluesky_client,
    http,
    m_account,
    m_status,
    mastodon_client,
)
from responses import matchers

from connectors.http import ConnectorError, MalformedResponse
from connectors.pagination import ContinueTokenPaginator, JsonCursorPaginator, PageNumberPaginator
from connectors.platform import PlatformClient

T0 = datetime(2024, 5, 10, 12, tzinfo=UTC)


def query(**params):
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()})]


def test_link_header_over_three_pages(rsps, clock):
    author = m_account("7")
    statuses = [m_status(author, T0 - timedelta(hours=h)) for h in range(6)]
    url = f"{MASTODON}/api/v1/accounts/7/statuses"
    for page in range(3):
        chunk = statuses[2 * page : 2 * page + 2]
        headers = {}
        if page < 2:
            headers["Link"] = (
                f'<{url}?limit=2&max_id={chunk[-1]["id"]}>; rel="next", '
                f'<{url}?limit=2&min_id={chunk[0]["id"]}>; rel="prev"'
            )
        params = {"limit": 2} if page == 0 else {"limit": 2, "max_id": statuses[2 * page - 1]["id"]}
        rsps.get(url, json=chunk, headers=headers, match=query(**params))
    got = list(mastodon_client(clock).statuses("7", limit=2))
    assert [s["id"] for s in got] == [s["id"] for s in statuses]
    assert len(rsps.calls) == 3


def test_link_pagination_is_lazy(rsps, clock):
    url = f"{MASTODON}/api/v1/statuses/1/favourited_by"
    rsps.get(url, json=[m_account("2")], headers={"Link": f'<{url}?max_id=9>; rel="next"'})
    first = next(mastodon_client(clock).favourited_by("1"))
    assert first["id"] == "2" and len(rsps.calls) == 1


def test_json_cursor_over_three_pages(rsps, clock):
    did = b_did(1)
    posts = [b_post(did, T0 - timedelta(hours=h), f"r{h}") for h in range(3)]
    url = f"{BLUESKY}/xrpc/app.bsky.feed.getAuthorFeed"
    base = {"actor": did, "limit": 100, "filter": "posts_with_replies"}
    rsps.get(url, json={"feed": [{"post": posts[0]}], "cursor": "c1"}, match=query(**base))
    rsps.get(url, json={"feed": [{"post": posts[1]}], "cursor": "c2"}, match=query(**base, cursor="c1"))
    rsps.get(url, json={"feed": [{"post": posts[2]}]}, match=query(**base, cursor="c2"))
    assert [i["post"]["uri"] for i in bluesky_client(clock).author_feed(did)] == [p["uri"] for p in posts]


def test_json_cursor_stops_on_empty_page_even_with_cursor(rsps, clock):
    url = f"{BLUESKY}/xrpc/app.bsky.feed.getLikes"
    rsps.get(url, json={"uri": "at://x", "likes": [], "cursor": "again"})
    assert list(bluesky_client(clock).likes("at://x")) == [] and len(rsps.calls) == 1


def test_reddit_style_nested_cursor(rsps, clock):
    client = http("reddit", "https://oauth.reddit.test", clock)
    url = "https://oauth.reddit.test/user/spez/submitted"
    for after, following in [(None, "t3_a"), ("t3_a", "t3_b"), ("t3_b", None)]:
        params = {"limit": 2} if after is None else {"limit": 2, "after": after}
        body = {"kind": "Listing", "data": {"after": following, "children": [{"kind": "t3", "data": {"name": after}}]}}
        rsps.get(url, json=body, match=query(**params))
    pages = list(
        client.paginate(
            "/user/spez/submitted",
            JsonCursorPaginator("data.after", "after"),
            items_path="data.children",
            params={"limit": 2},
        )
    )
    assert len(pages) == 3


def test_page_number_has_more_over_three_pages(rsps, clock):
    platform = PlatformClient(http("platform", "https://k.test", clock), per_page=2)
    url = "https://k.test/platform/v1/campaigns"
    for page in (1, 2, 3):
        items = [{"campaign_id": f"c{page}{i}"} for i in range(2)]
        rsps.get(url, json={"items": items, "has_more": page < 3}, match=query(page=page, per_page=2))
    assert len(list(platform.campaigns())) == 6 and len(rsps.calls) == 3


def test_page_number_stack_exchange_and_total_pages(rsps, clock):
    client = http("stackexchange", "https://api.se.test", clock)
    for page in (1, 2, 3):
        params = {"site": "stackoverflow"} | ({"page": page} if page > 1 else {})  # page 1 implied
        rsps.get(
            "https://api.se.test/2.3/answers",
            match=query(**params),
            json={"items": [{"answer_id": page}], "has_more": page < 3, "quota_remaining": 100 - page},
        )
    pages = list(
        client.paginate(
            "/2.3/answers", PageNumberPaginator("page"), items_path="items", params={"site": "stackoverflow"}
        )
    )
    assert [p[0]["answer_id"] for p in pages] == [1, 2, 3]
    for page in (0, 1, 2):
        rsps.get("https://api.se.test/by-total", match=query(p=page), json={"items": [page], "pages": 3})
    total = PageNumberPaginator("p", has_more_path=None, total_path="pages", base_page=0)
    assert list(client.paginate("/by-total", total, items_path="items", params={"p": 0})) == [[0], [1], [2]]


def test_continue_token_wikipedia_dict_over_three_pages(rsps, clock):
    client = http("wikipedia", "https://en.wiki.test", clock)
    base = {"action": "query", "list": "usercontribs", "ucuser": "Jimbo", "format": "json"}
    tokens = [None, {"uccontinue": "2024|1", "continue": "-||"}, {"uccontinue": "2024|2", "continue": "-||"}]
    for i, token in enumerate(tokens):
        body = {"query": {"usercontribs": [{"revid": i}]}}
        if i < 2:
            body["continue"] = tokens[i + 1]
        rsps.get("https://en.wiki.test/w/api.php", json=body, match=query(**base, **(token or {})))
    pages = list(
        client.paginate("/w/api.php", ContinueTokenPaginator("continue"), items_path="query.usercontribs", params=base)
    )
    assert [p[0]["revid"] for p in pages] == [0, 1, 2]


def test_continue_token_youtube_over_three_pages(rsps, clock):
    client = http("youtube", "https://yt.test", clock, api_key="k", api_key_param="key")
    for token, following in [(None, "T1"), ("T1", "T2"), ("T2", None)]:
        params = {"key": "k", "part": "id"} | ({"pageToken": token} if token else {})
        body = {"items": [{"id": token}]} | ({"nextPageToken": following} if following else {})
        rsps.get("https://yt.test/youtube/v3/search", json=body, match=query(**params))
    paginator = ContinueTokenPaginator("nextPageToken", param="pageToken")
    pages = list(client.paginate("/youtube/v3/search", paginator, items_path="items", params={"part": "id"}))
    assert len(pages) == 3


def test_max_pages_guard(rsps, clock):
    client = http("bluesky", BLUESKY, clock, max_pages=3)
    counter = iter(range(100))
    rsps.add_callback(
        "GET",
        f"{BLUESKY}/xrpc/loop",
        callback=lambda request: (200, {}, f'{{"items": [1], "cursor": "c{next(counter)}"}}'),
    )
    with pytest.raises(ConnectorError, match="more than 3 pages"):
        list(client.paginate("/xrpc/loop", JsonCursorPaginator(), items_path="items"))


def test_malformed_page_yields_nothing_from_that_page(rsps, clock):
    client = http("bluesky", BLUESKY, clock, retries=1)
    url = f"{BLUESKY}/xrpc/app.bsky.feed.getAuthorFeed"
    rsps.get(url, json={"feed": [{"n": 1}], "cursor": "c1"}, match=query(cursor="c0"))
    rsps.get(url, body='{"feed": [{"n": 2}, {"n"', match=query(cursor="c1"))
    got = []
    with pytest.raises(MalformedResponse, match=r"bluesky /xrpc/app.bsky.feed.getAuthorFeed \(account alice\)"):
        for page in client.paginate(
            "/xrpc/app.bsky.feed.getAuthorFeed",
            JsonCursorPaginator(),
            items_path="feed",
            params={"cursor": "c0"},
            account="alice",
        ):
            got.extend(page)
    assert got == [{"n": 1}]


def test_items_missing_is_malformed(rsps, clock):
    rsps.get(f"{BLUESKY}/xrpc/app.bsky.feed.getLikes", json={"uri": "at://x"})
    with pytest.raises(MalformedResponse, match="likes"):
        list(bluesky_client(clock).likes("at://x"))
