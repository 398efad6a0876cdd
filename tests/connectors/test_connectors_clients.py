from connector_helpers import (
    BLUESKY,
    MASTODON,
    b_did,
    b_post,
    b_profile,
    bluesky_client,
    m_account,
    m_status,
    mastodon_client,
)
from connector_worlds import at
from responses import matchers

import connectors
from connectors.bluesky import BlueskyClient
from connectors.mastodon import MastodonClient


def test_registry_builds_clients_with_defaults_and_env_credentials(monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", "tok")
    client = connectors.make_client("mastodon")
    assert isinstance(client, MastodonClient)
    assert client.http.base_url == "https://mastodon.social"
    assert client.http.session.headers["Authorization"] == "Bearer tok"
    bsky = connectors.make_client("bluesky", base_url="http://127.0.0.1:9")
    assert isinstance(bsky, BlueskyClient) and bsky.http.base_url == "http://127.0.0.1:9"
    assert connectors.NETWORKS["bluesky"].default_base_url == "https://public.api.bsky.app"


def test_mastodon_statuses_window_params_and_lookup(rsps, clock):
    author = m_account("7", "zed@remote.example")
    rsps.get(
        f"{MASTODON}/api/v1/accounts/lookup",
        json=author,
        match=[matchers.query_param_matcher({"acct": "zed@remote.example"})],
    )
    rsps.get(
        f"{MASTODON}/api/v1/accounts/7/statuses",
        json=[m_status(author, at(0, 1))],
        match=[matchers.query_param_matcher({"limit": "40", "since_id": "5", "max_id": "9"})],
    )
    client = mastodon_client(clock)
    assert client.resolve_account("zed@remote.example").account_id == "7"
    assert len(list(client.statuses("7", since_id="5", max_id="9"))) == 1


def test_mastodon_reblogged_by_follows_link(rsps, clock):
    url = f"{MASTODON}/api/v1/statuses/3/reblogged_by"
    rsps.get(
        url,
        json=[m_account("1")],
        headers={"Link": f'<{url}?limit=80&max_id=1>; rel="next"'},
        match=[matchers.query_param_matcher({"limit": "80"})],
    )
    rsps.get(url, json=[m_account("2")], match=[matchers.query_param_matcher({"limit": "80", "max_id": "1"})])
    assert [a["id"] for a in mastodon_client(clock).reblogged_by("3")] == ["1", "2"]


def test_bluesky_profile_thread_and_quotes(rsps, clock):
    did = b_did(1)
    post = b_post(did, at(0, 1), "p")
    rsps.get(f"{BLUESKY}/xrpc/app.bsky.actor.getProfile", json=b_profile(did, "me.bsky.social", followers=42))
    direct = b_post(b_did(2), at(0, 2), "r1", reply_to=post["uri"])
    deeper = b_post(b_did(3), at(0, 3), "r2", reply_to=direct["uri"])
    rsps.get(
        f"{BLUESKY}/xrpc/app.bsky.feed.getPostThread",
        json={
            "thread": {
                "post": post,
                "replies": [
                    {"post": direct, "replies": []},
                    {"post": deeper, "replies": []},
                    {"uri": "at://x", "blocked": True, "author": {"did": b_did(4)}},
                ],
            }
        },
        match=[matchers.query_param_matcher({"uri": post["uri"], "depth": "1", "parentHeight": "0"})],
    )
    rsps.get(
        f"{BLUESKY}/xrpc/app.bsky.feed.getQuotes",
        json={"uri": post["uri"], "posts": [deeper]},
        match=[matchers.query_param_matcher({"uri": post["uri"], "cid": post["cid"], "limit": "100"})],
    )
    client = bluesky_client(clock)
    snapshot = client.resolve_account("me.bsky.social")
    assert (snapshot.account_id, snapshot.handle, snapshot.payload["followersCount"]) == (did, "me.bsky.social", 42)
    assert [p["uri"] for p in client.post_thread(post["uri"])] == [direct["uri"]]
    assert [p["uri"] for p in client.quotes(post["uri"], post["cid"])] == [deeper["uri"]]
