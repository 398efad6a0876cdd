"""Khoros (Lithium) Community API v2 client: LiQL over `GET <community>/api/2.0/search?q=...`.

Klout measured Lithium communities, and each community is its own site, so one client serves
several: `KHOROS_BASE_URL` lists community URLs, comma-separated (`https://community.atlassian.com/forums/s,
https://community.sap.com`). A community is named by its URL's host (or explicitly, `name=url`);
an entry on a loopback host (the sandbox) is a gateway serving every community under
`<url>/khoros/<community host>`. Handles are `<community host>/<login>` (a bare login when one
community is configured) and account ids `<community host>:<user id>`, so the same login in two
communities is two accounts; message ids are namespaced the same way, and so are the user ids in
landed payloads.

A member's posts are their messages (topics and replies alike, newest first). Reactions:
`kudo` (the `kudos` collection: giver and time) and `reply` (messages whose `parent.id` is the
post); `metrics.views` counts views and names nobody (`view`, a count only). Mentions are the
body's `lia-mention` links (`.../viewprofilepage/user-id/<id>`). Paging: `CURSOR '<next_cursor>'`
appended to the same ordered query. Khoros publishes no rate limits and sends no rate-limit
headers: 429 and 5xx answers are retried with backoff, nothing else. Credentials are optional
(`KHOROS_TOKEN`, sent as a bearer token): public communities answer anonymously.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from connectors.http import ConnectorError, HttpClient, HttpStatusError, MalformedResponse
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.registry import NetworkSpec

NETWORK = "khoros"
DEFAULT_BASE_URL = "https://community.khoros.com"
SEARCH = "/api/2.0/search"
GATEWAY_PATH = "/khoros/"
PAGE = 100
KUDO, REPLY, VIEW = "kudo", "reply", "view"
MESSAGE_FIELDS = "id, subject, body, view_href, post_time, depth, parent, author, board, kudos, replies, metrics"
_MENTION = re.compile(r'href="[^"]*/viewprofilepage/user-id/(\d+)"[^>]*class="[^"]*lia-mention-user')


class KhorosError(HttpStatusError):
    """A `status: "error"` envelope (Khoros's own `data.code` kept in `code`)."""


def quote(value: str) -> str:
    """A LiQL string literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _is_gateway(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_communities(setting: str) -> tuple[dict[str, str], str | None]:
    """`KHOROS_BASE_URL` -> ({community host: API base URL}, the gateway URL or None)."""
    communities: dict[str, str] = {}
    gateway = None
    for entry in (e.strip() for e in setting.split(",")):
        if not entry:
            continue
        name, sep, url = entry.partition("=")
        if not sep or "://" in name:
            name, url = "", entry
        url = url.rstrip("/")
        if not name and _is_gateway(url):
            gateway = gateway or url
            continue
        communities[(name or urlsplit(url).netloc).lower()] = url
    return communities, gateway


class KhorosClient:
    network = NETWORK

    def __init__(self, http: HttpClient):
        self.http = http
        self.communities, self.gateway = parse_communities(http.base_url)
        self._sites: dict[str, HttpClient] = {}

    # --- communities

    def community_of(self, handle: str) -> tuple[str, str]:
        """(community host, login) of `<host>/<login>`, or of a bare login in the one community."""
        host, sep, login = handle.partition("/")
        if not sep:
            if len(self.communities) != 1:
                raise ConnectorError(NETWORK, SEARCH, handle, "handles are <community host>/<login>")
            return next(iter(self.communities)), handle
        return host.lower(), login

    def site(self, host: str, account: str | None = None) -> HttpClient:
        """The community's client: the shared one (its budget, retries and stats) at its URL."""
        if host not in self._sites:
            url = self.communities.get(host) or (f"{self.gateway}{GATEWAY_PATH}{host}" if self.gateway else None)
            if url is None:
                raise ConnectorError(NETWORK, SEARCH, account, f"community {host} is not in KHOROS_BASE_URL")
            view = copy.copy(self.http)
            view.base_url = url
            self._sites[host] = view
        return self._sites[host]

    # --- LiQL

    def search(self, host: str, liql: str, account: str | None = None) -> dict[str, Any]:
        """One LiQL call; the `data` of a success envelope."""
        try:
            body = self.site(host, account).get(SEARCH, params={"q": liql}, account=account)
        except HttpStatusError as exc:
            data = (exc.body or {}).get("data") if isinstance(exc.body, dict) else None
            if isinstance(data, dict) and data.get("type") == "error_data":
                message = f"HTTP {exc.status}: Khoros {data.get('code')}: {exc.body.get('message')}"
                raise KhorosError(NETWORK, SEARCH, account, message, status=exc.status, body=exc.body) from None
            raise
        if not isinstance(body, dict) or body.get("status") != "success" or not isinstance(body.get("data"), dict):
            raise MalformedResponse(NETWORK, SEARCH, account, "not a LiQL success envelope")
        return body["data"]

    def pages(self, host: str, liql: str, account: str | None = None) -> Iterator[list[dict]]:
        """`data.items` of each page, `CURSOR '<next_cursor>'` appended to the same query; lazy."""
        cursor = None
        for _ in range(self.http.max_pages):
            data = self.search(host, liql + (f" CURSOR {quote(cursor)}" if cursor else ""), account)
            items = data.get("items")
            if not isinstance(items, list):
                raise MalformedResponse(NETWORK, SEARCH, account, "expected a list at data.items")
            yield items
            following = data.get("next_cursor")
            if not following or not items or following == cursor:
                return
            cursor = following
        raise ConnectorError(NETWORK, SEARCH, account, f"more than {self.http.max_pages} pages")

    # --- ingest vocabulary

    def resolve_account(self, handle: str) -> AccountSnapshot:
        host, login = self.community_of(handle)
        liql = (
            "SELECT id, login, view_href, registration_data, rank, messages.count(*) FROM users "
            f"WHERE login = {quote(login)}"
        )
        items = self.search(host, liql, account=handle).get("items") or []
        if not items:
            raise HttpStatusError(NETWORK, SEARCH, handle, "no such member in the community", status=404)
        user = items[0]
        return AccountSnapshot(f"{host}:{user['id']}", f"{host}/{user['login']}", self._landed(user, host))

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        host, login = account.handle.split("/", 1)
        liql = (
            f"SELECT {MESSAGE_FIELDS} FROM messages WHERE author.login = {quote(login)} "
            f"ORDER BY post_time DESC LIMIT {PAGE}"
        )
        for page in self.pages(host, liql, account=account.handle):
            for message in page:
                yield self._post(message, host, account)

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        host, mid = post.post_id.split(":", 1)
        if reaction_type == KUDO:
            liql = f"SELECT id, time, weight, giver FROM kudos WHERE message.id = {quote(mid)} ORDER BY time DESC"
            for page in self.pages(host, f"{liql} LIMIT {PAGE}", account=post.account_id):
                for kudo in page:
                    giver = f"{host}:{kudo['giver']['id']}"
                    if giver != post.account_id:
                        yield Reaction(giver, parse_time(kudo["time"]), self._landed(kudo, host))
        elif reaction_type == REPLY:
            liql = (
                f"SELECT {MESSAGE_FIELDS} FROM messages WHERE parent.id = {quote(mid)} "
                f"ORDER BY post_time DESC LIMIT {PAGE}"
            )
            for page in self.pages(host, liql, account=post.account_id):
                for message in page:
                    author = f"{host}:{message['author']['id']}"
                    if author != post.account_id:
                        yield Reaction(author, parse_time(message["post_time"]), self._landed(message, host))

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """The (namespaced) ids of every user object in a landed payload."""
        if isinstance(payload, dict):
            if payload.get("type") == "user" and isinstance(payload.get("id"), str):
                yield payload["id"]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    # --- helpers

    def _post(self, message: dict[str, Any], host: str, account: AccountSnapshot) -> Post:
        counts = {
            KUDO: int(((message.get("kudos") or {}).get("sum") or {}).get("weight") or 0),
            REPLY: int((message.get("replies") or {}).get("count") or 0),
            VIEW: int((message.get("metrics") or {}).get("views") or 0),
        }
        mentioned = []
        for uid in _MENTION.findall(message.get("body") or ""):
            key = f"{host}:{uid}"
            if key != account.account_id and key not in mentioned:
                mentioned.append(key)
        return Post(
            post_id=f"{host}:{message['id']}",
            account_id=account.account_id,
            created_at=parse_time(message["post_time"]),
            payload=self._landed(message, host),
            reaction_counts=counts,
            mentioned_account_ids=tuple(mentioned),
        )

    @staticmethod
    def _landed(obj: Any, host: str) -> Any:
        """The object as landed: its user objects' ids namespaced by community, as account ids are
        (so the privacy gate can find and drop them); the community named at the top."""

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                out = {k: walk(v) for k, v in value.items()}
                if out.get("type") == "user" and "id" in out:
                    out["id"] = f"{host}:{out['id']}"
                return out
            if isinstance(value, list):
                return [walk(v) for v in value]
            return value

        return {"community": host, **walk(obj)}


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=KhorosClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="KHOROS",
    reaction_types=(KUDO, REPLY),
    anonymous_counts=(VIEW,),
    account_counts={"posts_count": "$.messages.count"},
)
