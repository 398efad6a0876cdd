"""The sandbox's Khoros Community API v2: two communities on one port, the LiQL subset parsed
strictly (unknown collections, fields and operators are Khoros errors), the success and error
envelopes (fields as in tests/fixtures/khoros), CURSOR paging, and a world whose reactions never
cross communities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from served_shapes import missing_keys

from sandbox.dialects.khoros import COMMUNITIES, parse_liql
from sandbox.server import FaultConfig, SandboxServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "khoros"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def search(http, base: str, host: str, q: str):
    return http.get(f"{base}/khoros/{host}/api/2.0/search", params={"q": q})


def walk(http, base: str, host: str, q: str) -> list[dict]:
    items, cursor = [], None
    while True:
        response = search(http, base, host, q + (f" CURSOR '{cursor}'" if cursor else ""))
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        items += data["items"]
        cursor = data.get("next_cursor")
        if not cursor:
            return items


@pytest.fixture(scope="module")
def busiest(world):
    """The world's Khoros member with the most messages."""
    posts = world.posts[world.posts.network == "khoros"]
    account = posts.account_id.value_counts().index[0]
    return world.accounts.set_index("account_id").loc[account]


def test_members_are_spread_over_both_communities_and_reactions_never_cross(world):
    accounts = world.accounts[world.accounts.network == "khoros"]
    hosts = accounts.account_id.str.split(":").str[0]
    assert set(hosts) == set(COMMUNITIES)
    assert (accounts.handle.str.split("/").str[0] == hosts).all()
    reactions = world.reactions[world.reactions.network == "khoros"]
    assert len(reactions) > 0
    community = lambda ids: ids.str.split(":").str[0]  # noqa: E731
    assert (community(reactions.reactor_account_id) == community(reactions.target_account_id)).all()
    assert (community(reactions.post_id) == community(reactions.target_account_id)).all()


def test_users_messages_and_kudos_are_served_in_the_documented_envelope(http, base, busiest, world):
    host, login = busiest.handle.split("/")
    users = search(
        http, base, host, f"SELECT id, login, view_href, messages.count(*) FROM users WHERE login = '{login}'"
    )
    body = users.json()
    assert not missing_keys({k: v for k, v in fixture("users.byLogin").items() if k != "data"}, body)
    user = body["data"]["items"][0]
    assert f"{host}:{user['id']}" == busiest.name and user["login"] == login and user["messages"]["count"] > 0
    q = (
        "SELECT id, href, subject, body, view_href, post_time, depth, parent, author, board, kudos, replies, metrics "
        f"FROM messages WHERE author.login = '{login}' ORDER BY post_time DESC LIMIT 2"
    )
    page = search(http, base, host, q).json()
    example = fixture("messages.byAuthor.page1")
    assert not missing_keys(example["data"]["items"][0], page["data"]["items"][0])
    assert set(page["data"]) >= {"type", "list_item_type", "size", "items", "next_cursor"}
    kudoed = world.reactions[
        (world.reactions.reaction_type == "kudo") & world.reactions.post_id.str.startswith(host + ":")
    ].post_id.iloc[0]
    kudos = search(
        http, base, host, f"SELECT id, time, weight, giver FROM kudos WHERE message.id = '{kudoed.split(':')[1]}'"
    )
    assert not missing_keys(fixture("kudos.byMessage")["data"]["items"][0], kudos.json()["data"]["items"][0])


def test_cursor_paging_walks_every_message_of_a_member_once(http, base, busiest, world):
    host, login = busiest.handle.split("/")
    items = walk(
        http,
        base,
        host,
        f"SELECT id, post_time FROM messages WHERE author.login = '{login}' ORDER BY post_time DESC LIMIT 3",
    )
    expected = world.posts[world.posts.account_id == busiest.name].sort_values("created_at", ascending=False)
    assert [f"{host}:{m['id']}" for m in items] == expected.post_id.tolist()
    times = [m["post_time"] for m in items]
    assert times == sorted(times, reverse=True) and len(items) > 3


def test_replies_by_parent_and_counts_agree(http, base, world):
    replies = world.posts[(world.posts.network == "khoros") & (world.posts.kind == "reply")]
    parent = replies.reply_to_post_id.value_counts().index[0]
    host, mid = parent.split(":")
    items = walk(http, base, host, f"SELECT id, author, parent, depth FROM messages WHERE parent.id = '{mid}' LIMIT 1")
    assert sorted(f"{host}:{m['id']}" for m in items) == sorted(replies[replies.reply_to_post_id == parent].post_id)
    assert {m["depth"] for m in items} == {1} and {m["parent"]["id"] for m in items} == {mid}
    post = search(http, base, host, f"SELECT replies, kudos, metrics FROM messages WHERE id = '{mid}'").json()
    assert post["data"]["items"][0]["replies"]["count"] == len(items)


def test_the_same_user_id_is_not_a_member_of_the_other_community(http, base, busiest):
    host, login = busiest.handle.split("/")
    other = next(c for c in COMMUNITIES if c != host)
    found = search(http, base, other, f"SELECT id FROM users WHERE login = '{login}'").json()
    assert found["status"] == "success" and found["data"]["items"] == []
    unknown = search(http, base, "nowhere.example", "SELECT id FROM users WHERE login = 'x'")
    assert unknown.status_code == 404 and unknown.json()["data"]["type"] == "error_data"


@pytest.mark.parametrize(
    "q, needle",
    [
        ("SELECT id FROM posts WHERE id = '1'", "unknown collection"),
        ("SELECT reply_count FROM messages WHERE id = '1'", "unknown field"),
        ("SELECT id FROM messages WHERE board.id = 'x'", "cannot be used in a WHERE"),
        ("SELECT id FROM messages WHERE author.login > 'x'", "operator"),
        ("SELECT id FROM messages WHERE id = '1' ORDER BY subject DESC", "cannot order"),
        ("SELECT id FROM messages WHERE id = '1' LIMIT 5000", "LIMIT"),
        ("SELECT id FROM messages WHERE id = '1' CURSOR 'bogus!'", "invalid cursor"),
        ("SELECT id FROM messages WHERE id = '1' GROUP BY id", "unexpected"),
        ("SELECT id, FROM messages", "expected"),
        ("SELECT id FROM messages", "must be filtered"),
    ],
)
def test_liql_outside_the_subset_is_a_khoros_error(http, base, q, needle):
    response = search(http, base, COMMUNITIES[0], q)
    body = response.json()
    assert response.status_code == 400 and body["status"] == "error", body
    assert body["data"]["type"] == "error_data" and body["data"]["code"] == 601
    assert needle in body["message"]
    assert not missing_keys(fixture("error.invalidQuery"), body)


def test_the_parser_reads_the_connectors_queries():
    q = parse_liql(
        "select id, post_time from messages where author.login = 'o\\'brien' and post_time > '2026-03-01T00:00:00Z' "
        "order by post_time desc limit 100 cursor 'abc'"
    )
    assert q.collection == "messages" and q.fields == ("id", "post_time")
    assert q.where == [("author.login", "=", "o'brien"), ("post_time", ">", "2026-03-01T00:00:00Z")]
    assert (q.order, q.limit, q.cursor) == (("post_time", True), 100, "abc")


def test_post_time_bounds_filter_messages(http, base, busiest, world):
    host, login = busiest.handle.split("/")
    posts = world.posts[world.posts.account_id == busiest.name].sort_values("created_at")
    middle = posts.created_at.iloc[len(posts) // 2]
    q = f"SELECT id FROM messages WHERE author.login = '{login}' AND post_time > '{middle.isoformat()}' LIMIT 1000"
    items = search(http, base, host, q).json()["data"]["items"]
    assert sorted(f"{host}:{m['id']}" for m in items) == sorted(posts[posts.created_at > middle].post_id)


def test_throttling_is_a_bare_429_without_rate_headers(world, busiest):
    import requests

    host, login = busiest.handle.split("/")
    with SandboxServer(world, faults=FaultConfig(seed=1, rate=1.0, kinds=("429",))) as server:
        response = requests.get(
            f"{server.base_url}/khoros/{host}/api/2.0/search",
            params={"q": f"SELECT id FROM users WHERE login = '{login}'"},
        )
    assert response.status_code == 429 and response.json()["data"]["type"] == "error_data"
    assert not {h.lower() for h in response.headers} & {"retry-after", "x-ratelimit-limit", "x-rate-limit-limit"}
