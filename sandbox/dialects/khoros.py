"""Khoros (Lithium) Community API v2, as the sandbox serves it: several communities on one port.

Each community is its own site (`https://<community host>/api/2.0/search`); the sandbox mounts
every one of them under `/khoros/<community host>/api/2.0/search`. The only endpoint is the LiQL
search: `q=SELECT ... FROM <collection> [WHERE ...] [ORDER BY ...] [LIMIT n] [CURSOR '...']`,
parsed strictly (`parse_liql`): an unknown collection, field, operator or clause is a Khoros
error (HTTP 400), never ignored. Collections served: `users` (by `login` or `id`), `messages` (by
`author.login`, `author.id`, `parent.id` or `id`, optionally `post_time` bounds and `depth`) and
`kudos` (by `message.id`).

A member's posts are their messages (topics, depth 0, and replies, depth 1); what others do to a
message is give kudos (a kudo names its giver and time) and reply (a message whose `parent.id`
is it); `metrics.views` counts views and names nobody. Accounts are namespaced by community
(`<host>:<user id>`, handle `<host>/<login>`), and the world draws reactions and mentions
within a community only (`NetworkDialect.community`).

No rate-limit headers are published: throttling is a bare 429 in the error envelope.
Success: `{"status": "success", "message": "", "http_code": 200, "data": {"type", "list_item_type",
"size", "items", "next_cursor"?}, "metadata": {}}`; error: `{"status": "error", "message",
"data": {"type": "error_data", "code", "developer_message", "more_info"}, "metadata": {}}`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sandbox.dialects.common import NetworkDialect, Reply
from sandbox.index import WorldIndex

PREFIX = "/khoros/"
SEARCH = "/api/2.0/search"
COMMUNITIES = ("atlas.community.example", "borealis.community.example")
LIQL_ERROR = 601  # Khoros's code for a query it cannot run (assumed: see docs/contracts.md)
DEFAULT_LIMIT, MAX_LIMIT = 25, 1000
_EPOCH_S = 1_500_000_000


class KhorosError(Exception):
    def __init__(self, status: int, code: int, message: str, developer_message: str = ""):
        super().__init__(message)
        self.reply = Reply(status, error_envelope(status, code, message, developer_message))


def error_envelope(status: int, code: int, message: str, developer_message: str = "") -> dict:
    return {
        "status": "error",
        "message": message,
        "data": {"type": "error_data", "code": code, "developer_message": developer_message, "more_info": ""},
        "metadata": {},
    }


_GENERIC = {"RateLimitExceeded": (429, 429), "InternalServerError": (503, 503), "InvalidRequest": (400, LIQL_ERROR)}


def _error_body(code: str, message: str) -> dict:
    status, khoros_code = _GENERIC.get(code, (400, LIQL_ERROR))
    return error_envelope(status, khoros_code, message)


def _throttled(reset_in: float = 0.0, variant: int | None = None) -> Reply:
    """A bare 429: Khoros publishes no rate-limit headers and no Retry-After."""
    return Reply(429, error_envelope(429, 429, "Too many requests"))


# --- LiQL ---------------------------------------------------------------------------------------

# collection -> (selectable fields, (field, operators) it can be filtered by, orderable fields)
_EQ = ("=",)
_RANGE = ("=", ">", ">=", "<", "<=")
COLLECTIONS = {
    "users": (
        ("id", "href", "view_href", "login", "registration_data", "rank", "messages.count(*)"),
        {"id": _EQ, "login": _EQ},
        (),
    ),
    "messages": (
        (
            "id",
            "href",
            "view_href",
            "subject",
            "body",
            "post_time",
            "depth",
            "author",
            "parent",
            "board",
            "conversation",
            "kudos",
            "replies",
            "metrics",
        ),
        {"id": _EQ, "author.id": _EQ, "author.login": _EQ, "parent.id": _EQ, "post_time": _RANGE, "depth": _RANGE},
        ("post_time",),
    ),
    "kudos": (("id", "href", "time", "weight", "giver", "message"), {"message.id": _EQ}, ("time",)),
}
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>\d+)|(?P<count>[A-Za-z_]+\.count\(\*\))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)|(?P<op>>=|<=|=|>|<)|(?P<punct>[,*]))"
)


@dataclass
class Query:
    collection: str
    fields: tuple[str, ...]
    where: list[tuple[str, str, str | int]] = field(default_factory=list)
    order: tuple[str, bool] | None = None  # (field, descending)
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def _liql_error(message: str) -> KhorosError:
    return KhorosError(400, LIQL_ERROR, f"Invalid query syntax: {message}", message)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise _liql_error(f"unexpected input at position {at}: {text[at : at + 20]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


def parse_liql(text: str) -> Query:
    """The LiQL subset the connector uses, strictly: anything else is an error."""
    tokens = _tokens(text or "")
    pos = 0

    def peek_word() -> str:
        return tokens[pos][1].upper() if pos < len(tokens) and tokens[pos][0] == "name" else ""

    def take(kind: str, word: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos][0] != kind or (word and tokens[pos][1].upper() != word):
            found = tokens[pos][1] if pos < len(tokens) else "end of query"
            raise _liql_error(f"expected {word or kind}, found {found!r}")
        pos += 1
        return tokens[pos - 1][1]

    take("name", "SELECT")
    selected: list[str] = []
    while True:
        if pos < len(tokens) and tokens[pos] == ("punct", "*"):
            pos += 1
            selected.append("*")
        elif pos < len(tokens) and tokens[pos][0] == "count":
            selected.append(take("count"))
        else:
            selected.append(take("name"))
        if pos < len(tokens) and tokens[pos] == ("punct", ","):
            pos += 1
            continue
        break
    take("name", "FROM")
    collection = take("name")
    if collection not in COLLECTIONS:
        raise _liql_error(f"unknown collection '{collection}'")
    fields, filters, orderable = COLLECTIONS[collection]
    for name in selected:
        if name != "*" and name not in fields:
            raise _liql_error(f"unknown field '{name}' for collection '{collection}'")
    query = Query(collection, tuple(fields if "*" in selected else selected))
    if peek_word() == "WHERE":
        pos += 1
        while True:
            name = take("name")
            if name not in filters:
                raise _liql_error(f"field '{name}' cannot be used in a WHERE clause of '{collection}'")
            op = take("op")
            if op not in filters[name]:
                raise _liql_error(f"operator '{op}' is not supported for '{name}'")
            if pos < len(tokens) and tokens[pos][0] == "number":
                value: str | int = int(take("number"))
            else:
                value = re.sub(r"\\(.)", r"\1", take("string")[1:-1])
            query.where.append((name, op, value))
            if peek_word() != "AND":
                break
            pos += 1
    if peek_word() == "ORDER":
        pos += 1
        take("name", "BY")
        name = take("name")
        if name not in orderable:
            raise _liql_error(f"cannot order '{collection}' by '{name}'")
        descending = False
        if peek_word() in ("ASC", "DESC"):
            descending = take("name").upper() == "DESC"
        query.order = (name, descending)
    if peek_word() == "LIMIT":
        pos += 1
        query.limit = int(take("number"))
        if not 0 < query.limit <= MAX_LIMIT:
            raise _liql_error(f"LIMIT must be between 1 and {MAX_LIMIT}")
    if peek_word() == "CURSOR":
        pos += 1
        query.cursor = take("string")[1:-1]
    if pos != len(tokens):
        raise _liql_error(f"unexpected {tokens[pos][1]!r}")
    return query


def _cursor(collection: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{collection}|{offset}".encode()).decode().rstrip("=")


def _offset(query: Query) -> int:
    if query.cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(query.cursor + "=" * (-len(query.cursor) % 4)).decode()
        collection, _, number = raw.partition("|")
        if collection == query.collection and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise _liql_error("invalid cursor")


# --- the API ------------------------------------------------------------------------------------


def _iso(ms: int) -> str:
    """Khoros's timestamp style: 2026-03-31T12:34:56.789+00:00."""
    ts = pd.Timestamp(int(ms), unit="ms", tz="UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}+00:00"


def local_id(namespaced: str) -> str:
    return namespaced.split(":", 1)[1]


class Khoros:
    def __init__(self, index: WorldIndex):
        self.ix = index
        self.reactors = index.reactions.reactor_account_id.to_numpy()

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        host, _, rest = path.removeprefix(PREFIX).partition("/")
        try:
            if host not in COMMUNITIES:
                raise KhorosError(404, 404, f"No community is served at /khoros/{host}")
            if "/" + rest != SEARCH:
                raise KhorosError(404, 404, f"The resource /{rest} does not exist")
            if not query.get("q"):
                raise _liql_error("parameter q (the LiQL query) is required")
            liql = parse_liql(query["q"])
            return self.search(host, liql, clock_ms)
        except KhorosError as exc:
            return exc.reply

    def search(self, host: str, q: Query, clock_ms: int) -> Reply:
        where = {name: (op, value) for name, op, value in q.where if op == "="}
        if q.collection == "users":
            rows = self._users(host, where, clock_ms)
            items = [self._user(acc, q.fields, clock_ms) for acc in rows]
            return self._page(q, items, "user")
        if q.collection == "kudos":
            if "message.id" not in where:
                raise _liql_error("kudos must be filtered by message.id")
            post = self._message(host, str(where["message.id"][1]), clock_ms)
            rows = [] if post is None else self._visible(self.ix.reactions_of(post["post_id"], "kudo"), clock_ms)
            descending = q.order is None or q.order[1]
            rows = rows[::-1] if descending else rows
            return self._page(q, rows, "kudo", lambda row: self._kudo(host, row, post, q.fields))
        rows = self._messages(host, q, where, clock_ms)
        return self._page(q, rows, "message", lambda row: self._message_item(host, row, q.fields, clock_ms))

    def _page(self, q: Query, rows: list, item_type: str, render=None) -> Reply:
        offset = _offset(q)
        chosen = rows[offset : offset + q.limit]
        items = [render(r) for r in chosen] if render else chosen
        data = {"type": q.collection, "list_item_type": item_type, "size": len(items), "items": items}
        if offset + q.limit < len(rows):
            data["next_cursor"] = _cursor(q.collection, offset + q.limit)
        return Reply(200, {"status": "success", "message": "", "http_code": 200, "data": data, "metadata": {}})

    # --- users

    def _account(self, host: str, by: str, value: str) -> dict | None:
        if by == "login":
            acc = self.ix.account_by_handle.get(("khoros", f"{host}/{str(value).lower()}"))
        else:
            acc = self.ix.account_by_id.get(f"{host}:{value}")
        return acc if acc is not None and acc["network"] == "khoros" else None

    def _users(self, host: str, where: dict, clock_ms: int) -> list[dict]:
        if not where:
            raise _liql_error("users must be filtered by login or id")
        found = None
        for by in ("login", "id"):
            if by in where:
                acc = self._account(host, by, str(where[by][1]))
                if acc is None or (found is not None and acc is not found):
                    return []
                found = acc
        return [found]

    def _user_summary(self, acc: dict) -> dict:
        host, uid = acc["account_id"].split(":", 1)
        login = acc["handle"].split("/", 1)[1]
        return {
            "type": "user",
            "id": uid,
            "href": f"/users/{uid}",
            "view_href": f"https://{host}/t5/user/viewprofilepage/user-id/{uid}",
            "login": login,
        }

    def _user(self, acc: dict, fields: tuple[str, ...], clock_ms: int) -> dict:
        full = self._user_summary(acc)
        full["registration_data"] = {
            "type": "registration_data",
            "status": "fully-registered",
            "registration_time": _iso(int(acc["created_at"].value // 1_000_000)),
        }
        full["rank"] = {"type": "rank", "id": "4", "name": "Contributor"}
        if "messages.count(*)" in fields:
            full["messages"] = {"count": self.ix.statuses_count(acc, clock_ms)[0]}
        return {"type": "user", **{k: v for k, v in full.items() if k in fields or k == "messages"}}

    # --- messages

    def _message(self, host: str, mid: str, clock_ms: int) -> dict | None:
        post = self.ix.post(f"{host}:{mid}", clock_ms)
        return post if post is not None and post["network"] == "khoros" else None

    def _visible(self, timeline, clock_ms: int) -> list[int]:
        return [int(r) for r in timeline.rows[: timeline.visible(clock_ms)]]

    def _messages(self, host: str, q: Query, where: dict, clock_ms: int) -> list[int]:
        if "parent.id" in where:
            parent = self._message(host, str(where["parent.id"][1]), clock_ms)
            rows = [] if parent is None else self._visible(self.ix.replies(parent["post_id"]), clock_ms)
        elif "author.id" in where or "author.login" in where:
            by, (_, value) = next((k, where[k]) for k in ("author.id", "author.login") if k in where)
            acc = self._account(host, by.split(".")[1], str(value))
            rows = [] if acc is None else self._visible(self.ix.account_posts(acc["account_id"]), clock_ms)
            if acc is not None and "author.login" in where and "author.id" in where:
                other = self._account(host, "login", str(where["author.login"][1]))
                rows = rows if other is acc else []
        elif "id" in where:
            post = self._message(host, str(where["id"][1]), clock_ms)
            rows = [] if post is None else [self.ix.post_row[post["post_id"]]]
        else:
            raise _liql_error("messages must be filtered by id, author or parent.id")
        for name, op, value in q.where:
            if name == "post_time":
                bound = _bound_ms(value)
                rows = [r for r in rows if _compare(int(self.ix.post_ms[r]), op, bound)]
            elif name == "depth":
                rows = [r for r in rows if _compare(self._depth(r), op, int(value))]
        descending = q.order is None or q.order[1]
        return rows[::-1] if descending else rows

    def _depth(self, row: int) -> int:
        return 1 if self.ix.post_records[row]["kind"] == "reply" else 0

    def _message_item(self, host: str, row: int, fields: tuple[str, ...], clock_ms: int) -> dict:
        post = self.ix.post_at(row)
        mid = local_id(post["post_id"])
        acc = self.ix.account_by_id[post["account_id"]]
        board = post["topic_slug"]
        href = f"https://{host}/t5/{board}/{_slug(post['text'])}/m-p/{mid}#M{mid}"
        item: dict = {"type": "message", "id": mid, "href": f"/messages/{mid}", "view_href": href}
        parent = post["reply_to_post_id"]
        root = local_id(parent) if parent else mid
        full = {
            "subject": ("Re: " if parent else "") + _subject(post["text"]),
            "body": self._body(post),
            "post_time": _iso(post["ms"]),
            "depth": 1 if parent else 0,
            "author": self._user_summary(acc),
            "board": {"type": "board", "id": board, "view_href": f"https://{host}/t5/{board}/bd-p/{board}"},
            "conversation": {
                "type": "conversation",
                "id": root,
                "view_href": f"https://{host}/t5/{board}/m-p/{root}#M{root}",
                "style": "forum",
                "solved": False,
            },
            "kudos": {
                "type": "kudos",
                "list_item_type": "kudo",
                "query": f"SELECT * FROM kudos WHERE message.id = '{mid}'",
                "sum": {"weight": self.ix.count(post["post_id"], "kudo", clock_ms)},
            },
            "replies": {
                "type": "messages",
                "list_item_type": "message",
                "query": f"SELECT * FROM messages WHERE parent.id = '{mid}'",
                "count": self.ix.replies(post["post_id"]).visible(clock_ms),
            },
            "metrics": {"type": "message_metrics", "views": self.ix.count(post["post_id"], "view", clock_ms)},
        }
        if parent:
            pid = local_id(parent)
            full["parent"] = {"type": "message", "id": pid, "href": f"/messages/{pid}"}
        item.update({k: v for k, v in full.items() if k in fields})
        return {k: v for k, v in item.items() if k in fields or k == "type"}

    def _body(self, post: dict) -> str:
        """The text as Khoros HTML: `@host/login` mentions become lia-mention links by user id."""
        text = post["text"]
        for mentioned in post["mentions"]:
            acc = self.ix.account_by_id.get(mentioned)
            if acc is None:
                continue
            summary = self._user_summary(acc)
            link = (
                f'<a href="{summary["view_href"]}" target="_self" class="lia-mention lia-mention-user">'
                f"@{summary['login']}</a>"
            )
            text = text.replace("@" + acc["handle"], link)
        return f"<p>{text}</p>"

    # --- kudos

    def _kudo(self, host: str, row: int, post: dict, fields: tuple[str, ...]) -> dict:
        giver = self.ix.account_by_id[self.reactors[row]]
        seq = str(int(self.ix.reactions.seq.iat[row]))
        mid = local_id(post["post_id"])
        full = {
            "id": seq,
            "href": f"/kudos/{seq}",
            "time": _iso(int(self.ix.reaction_ms[row])),
            "weight": 1,
            "giver": self._user_summary(giver),
            "message": {"type": "message", "id": mid, "href": f"/messages/{mid}"},
        }
        return {"type": "kudo", **{k: v for k, v in full.items() if k in fields}}


def _bound_ms(value) -> int:
    """A `post_time` bound (ISO 8601; UTC when it names no offset) in epoch milliseconds."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise _liql_error(f"post_time needs a date-time, got {value!r}") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return int(ts.value // 1_000_000)


def _compare(left: int, op: str, right: int) -> bool:
    return {"=": left == right, ">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _subject(text: str) -> str:
    words = re.sub(r"@\S+\s*", "", text).split()
    return " ".join(words[:8])


def _slug(text: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9 ]", "", _subject(text)).split()[:6]) or "message"


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """Each member belongs to one community (drawn); ids `<host>:<numeric user id>`, handles
    `<host>/<login>`. Khoros profiles have no private flag."""
    host = np.array(COMMUNITIES, dtype=object)[rng.integers(0, len(COMMUNITIES), len(numbers))]
    account_id = pd.Series(host + ":" + (1000 + np.asarray(numbers)).astype(str).astype(object))
    handle = pd.Series(host + "/" + stems.to_numpy().astype(object), index=stems.index)
    return account_id, handle, np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """`<host>:<message id>`, the id growing with time (seconds, then the day's rank)."""
    number = (ms.astype(np.int64) // 1000 - _EPOCH_S) * 4096 + (rank.astype(np.int64) % 512) * 8 + day_bits
    hosts = np.array([a.split(":", 1)[0] for a in authors], dtype=object)
    return hosts + ":" + number.astype(str).astype(object)


DIALECT = NetworkDialect(
    name="khoros",
    joined=9,
    path_prefix=PREFIX,
    handler=Khoros,
    invalid_status=400,
    error_body=_error_body,
    rate_headers=lambda limit, remaining, reset_epoch, window_s: {},  # Khoros publishes none
    reaction_mix=(("kudo", 0.3), ("reply", 0.15), ("view", 0.55)),
    anonymous=("view",),  # metrics.views: nobody named
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=lambda post_id: int(post_id.rsplit(":", 1)[1]),
    adoption=0.25,
    posts_rate=0.5,
    reactions_rate=2.0,
    rate_window=False,  # no limit is published: throttling shows only as a 429
    throttle_reply=_throttled,
    community=lambda account_ids: np.array([a.split(":", 1)[0] for a in account_ids], dtype=object),
)
