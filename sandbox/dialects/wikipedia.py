"""Wikipedia as the sandbox serves it: the MediaWiki Action API (`/w/api.php`: list=users,
list=usercontribs, list=logevents&letype=thanks, prop=revisions, with the `continue` protocol and
`maxlag`) and the Wikimedia REST per-article pageviews (`/api/rest_v1/metrics/pageviews/...`).

How the world maps onto a wiki: an editor's top-level posts are page creations (the page is
numbered by its creating revision), their replies are edits to the page replied to, a `thank` is
a row of the thanks log, and mentions are `[[User:...]]` links in the edit summary.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd

from sandbox.dialects.common import NetworkDialect, Reply
from sandbox.index import WorldIndex

API_PATH = "/w/api.php"
REST_PREFIX = "/api/rest_v1/"
PAGEVIEWS = "/api/rest_v1/metrics/pageviews/per-article/"
DOCREF = "See https://en.wikipedia.org/w/api.php for API usage."
SERVEDBY = "mw-sandbox"
_WIKI_EPOCH_S = 979_516_800  # 2001-01-15, the first edit: revision ids count seconds from there
MAX_LIMIT = 500
_GENERIC_AGENTS = re.compile(
    r"^(python-requests|python-urllib|python-httpx|aiohttp|curl|wget|go-http-client|java|okhttp|axios|node-fetch|"
    r"libwww-perl|undici)\b",
    re.I,
)
UA_REFUSAL = (
    "Please set a user-agent and respect our robot policy https://w.wiki/4wJS. "
    "See also https://meta.wikimedia.org/wiki/User-Agent_policy"
)


def mw_time(ms: int) -> str:
    """MediaWiki timestamps have whole seconds: 2019-02-05T14:05:11Z."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts14(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y%m%d%H%M%S")


def _limit(query: dict, name: str, default: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    if raw == "max":
        return MAX_LIMIT
    try:
        return max(1, min(MAX_LIMIT, int(raw)))
    except ValueError:
        raise _ApiError("badinteger", f'Invalid value "{raw}" for integer parameter "{name}".') from None


def _continue_id(raw: str | None, name: str) -> int | None:
    """`<timestamp>|<id>` -> the id to continue from (inclusive)."""
    if not raw:
        return None
    try:
        return int(raw.rsplit("|", 1)[1])
    except (IndexError, ValueError):
        raise _ApiError(
            "badcontinue", f'Invalid continue param "{name}". You should pass the original value.'
        ) from None


def normalise_name(name: str) -> str:
    name = name.replace("_", " ").strip()
    return name[:1].upper() + name[1:]


class _ApiError(Exception):
    def __init__(self, code: str, info: str):
        super().__init__(info)
        self.code, self.info = code, info


def api_error(code: str, info: str, v2: bool = True, **extra) -> dict:
    """The Action API's error body (errorformat=bc): HTTP 200, `error.code`/`error.info`."""
    error = {"code": code, "info": info, **extra}
    error.update({"docref": DOCREF} if v2 else {"*": DOCREF})
    return {"error": error, "servedby": SERVEDBY}


def problem(kind: str, title: str, detail: str, uri: str) -> dict:
    """Wikimedia REST errors are application/problem+json."""
    return {
        "type": f"https://mediawiki.org/wiki/HyperSwitch/errors/{kind}",
        "title": title,
        "method": "get",
        "detail": detail,
        "uri": uri,
    }


class Wikipedia:
    def __init__(self, index: WorldIndex):
        self.ix = index
        self._thanks = None
        self._titles = None

    # ------------------------------------------------------------------ lookups

    def _thank_timelines(self) -> dict:
        """Thanks per thanked account, in time order (they are the account's thanks log)."""
        if self._thanks is None:
            r = self.ix.reactions
            sel = np.flatnonzero((r.network == "wikipedia").to_numpy() & (r.reaction_type == "thank").to_numpy())
            ms = self.ix.reaction_ms[sel]
            seq = r.seq.to_numpy()[sel]
            self._thanks = self.ix._timelines(r.target_account_id.iloc[sel].reset_index(drop=True), ms, seq, sel)
        return self._thanks

    def _title_map(self) -> dict[str, str]:
        if self._titles is None:
            posts = self.ix.posts
            mine = posts[(posts.network == "wikipedia") & (posts.kind == "post")]
            self._titles = {_title(slug, pid): pid for slug, pid in zip(mine.topic_slug, mine.post_id)}
        return self._titles

    def _account(self, name: str) -> dict | None:
        return self.ix.account_by_handle.get(("wikipedia", normalise_name(name)))

    def _page_revisions(self, page_post: dict, clock_ms: int) -> list[dict]:
        """The page's revisions visible at the clock, oldest first: its creation, then the edits."""
        tl = self.ix.replies(page_post["post_id"])
        rows = tl.rows[: tl.visible(clock_ms)]
        edits = sorted((self.ix.post_at(int(r)) for r in rows), key=lambda p: int(p["post_id"]))
        return [page_post, *edits]

    def _page_of(self, post: dict, clock_ms: int) -> dict:
        """The creating revision of the page an edit belongs to."""
        return self.ix.post(post["reply_to_post_id"], clock_ms) if post["kind"] == "reply" else post

    # ------------------------------------------------------------------ routing

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        if path.startswith(PAGEVIEWS):
            return self.pageviews(path, clock_ms)
        if path.startswith(REST_PREFIX):
            return Reply(404, problem("not_found", "Not found.", "The requested resource was not found", path))
        v2 = query.get("formatversion") in ("2", "latest")
        if path != API_PATH:
            return Reply(404, problem("not_found", "Not found.", "The requested resource was not found", path))
        try:
            return Reply(200, self.action(query, clock_ms, v2))
        except _ApiError as exc:
            return Reply(200, api_error(exc.code, exc.info, v2), {"MediaWiki-API-Error": exc.code})

    def action(self, query: dict, clock_ms: int, v2: bool) -> dict:
        action = query.get("action")
        if action is None:
            raise _ApiError("missingparam", 'The "action" parameter must be set.')
        if action != "query":
            raise _ApiError("badvalue", f'Unrecognized value for parameter "action": {action}.')
        lists = [m for m in (query.get("list") or "").split("|") if m]
        props = [m for m in (query.get("prop") or "").split("|") if m]
        result: dict = {}
        cont: dict = {}
        for module in lists:
            handler = {"users": self.users, "usercontribs": self.usercontribs, "logevents": self.logevents}.get(module)
            if handler is None:
                raise _ApiError("badvalue", f'Unrecognized value for parameter "list": {module}.')
            items, more = handler(query, clock_ms, v2)
            result[module] = items
            cont.update(more)
        if props:
            if props != ["revisions"]:
                raise _ApiError("badvalue", f'Unrecognized value for parameter "prop": {query["prop"]}.')
            pages, more = self.revisions(query, clock_ms, v2)
            result["pages"] = pages
            cont.update(more)
        body: dict = {"batchcomplete": True if v2 else ""}
        if cont:
            body["continue"] = {**cont, "continue": "||" if props and not lists else "-||"}
        body["query"] = result
        return body

    # ------------------------------------------------------------------ list=users

    def users(self, query: dict, clock_ms: int, v2: bool):
        names = [n for n in (query.get("ususers") or "").split("|") if n]
        if len(names) > 50:
            raise _ApiError("toomanyvalues", 'Too many values supplied for parameter "ususers". The limit is 50.')
        props = set((query.get("usprop") or "").split("|"))
        out = []
        for name in names:
            acc = self._account(name)
            if acc is None or acc["created_at"].value // 1_000_000 > clock_ms:
                out.append({"name": normalise_name(name), "missing": True if v2 else ""})
                continue
            user = {"userid": int(acc["account_id"]), "name": acc["handle"]}
            if "editcount" in props:
                user["editcount"] = self.ix.statuses_count(acc, clock_ms)[0]
            if "registration" in props:
                user["registration"] = mw_time(int(acc["created_at"].value // 1_000_000))
            if "groups" in props:
                user["groups"] = ["*", "user", "autoconfirmed"]
            if "gender" in props:
                user["gender"] = "unknown"
            out.append(user)
        return out, {}

    # ------------------------------------------------------------------ list=usercontribs

    def contribution(self, post: dict, clock_ms: int, props: set[str], v2: bool) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        page = self._page_of(post, clock_ms)
        revisions = self._page_revisions(page, clock_ms)
        ids = [int(r["post_id"]) for r in revisions]
        revid = int(post["post_id"])
        at = ids.index(revid)
        item: dict = {"userid": int(acc["account_id"]), "user": acc["handle"]}
        if "ids" in props:
            item.update({"pageid": int(page["post_id"]), "revid": revid, "parentid": ids[at - 1] if at else 0})
        if "title" in props:
            item.update({"ns": 0, "title": _title(page["topic_slug"], page["post_id"])})
        if "timestamp" in props:
            item["timestamp"] = mw_time(post["ms"])
        if "comment" in props:
            item["comment"] = self.summary(post)
        if "size" in props:
            item["size"] = _size(post["post_id"])
        if "flags" in props:
            flags = {"new": at == 0, "minor": False, "top": at == len(ids) - 1}
            item.update(flags if v2 else {k: "" for k, v in flags.items() if v})
        return item

    def summary(self, post: dict) -> str:
        """The edit summary: the post's text, mentions as user links (Echo notifies those)."""
        text = post["text"]
        for account_id in post["mentions"]:
            name = self.ix.account_by_id[account_id]["handle"]
            text = text.replace(f"@{name}", f"[[User:{name}|{name}]]")
        return text

    def usercontribs(self, query: dict, clock_ms: int, v2: bool):
        names = [n for n in (query.get("ucuser") or "").split("|") if n]
        if not names:
            raise _ApiError(
                "missingparam", "One of the parameters ucuser, ucuserids, ucuserprefix, uciprange is required."
            )
        limit = _limit(query, "uclimit", 10)
        newer = query.get("ucdir") == "newer"
        props = set((query.get("ucprop") or "ids|title|timestamp|comment|size|flags").split("|"))
        rows = []
        for name in names:
            acc = self._account(name)
            if acc is None:
                continue
            tl = self.ix.account_posts(acc["account_id"])
            rows.extend(int(r) for r in tl.rows[: tl.visible(clock_ms)])
        posts = sorted((self.ix.post_at(r) for r in rows), key=lambda p: int(p["post_id"]), reverse=not newer)
        start_ms, end_ms = _ts_ms(query.get("ucstart")), _ts_ms(query.get("ucend"))
        lo_ms, hi_ms = (start_ms, end_ms) if newer else (end_ms, start_ms)
        posts = [p for p in posts if (lo_ms is None or p["ms"] >= lo_ms) and (hi_ms is None or p["ms"] < hi_ms + 1000)]
        after = _continue_id(query.get("uccontinue"), "uccontinue")
        if after is not None:
            posts = [p for p in posts if (int(p["post_id"]) >= after if newer else int(p["post_id"]) <= after)]
        page, rest = posts[:limit], posts[limit:]
        more = {"uccontinue": f"{_ts14(rest[0]['ms'])}|{rest[0]['post_id']}"} if rest else {}
        return [self.contribution(p, clock_ms, props, v2) for p in page], more

    # ------------------------------------------------------------------ list=logevents

    def logevents(self, query: dict, clock_ms: int, v2: bool):
        limit = _limit(query, "lelimit", 10)
        letype = query.get("letype")
        props = set((query.get("leprop") or "ids|title|type|user|timestamp|comment|details").split("|"))
        title = query.get("letitle")
        if letype not in (None, "", "thanks") or not title:
            # the sandbox keeps only the thanks log, and serves it by recipient
            return [], {}
        if not title.startswith("User:"):
            return [], {}
        acc = self._account(title.removeprefix("User:"))
        if acc is None:
            return [], {}
        tl = self._thank_timelines().get(acc["account_id"])
        if tl is None:
            return [], {}
        n = tl.visible(clock_ms)
        order = list(range(n)) if query.get("ledir") == "newer" else list(range(n - 1, -1, -1))
        after = _continue_id(query.get("lecontinue"), "lecontinue")
        if after is not None:
            newer = query.get("ledir") == "newer"
            order = [i for i in order if (tl.keys[i] >= after if newer else tl.keys[i] <= after)]
        page, rest = order[:limit], order[limit:]
        reactions = self.ix.reactions
        events = []
        for i in page:
            row = int(tl.rows[i])
            thanker = self.ix.account_by_id[reactions.reactor_account_id.iat[row]]
            event: dict = {}
            if "ids" in props:
                event.update({"logid": int(tl.keys[i]), "pageid": 0, "logpage": 0})
            if "title" in props:
                event.update({"ns": 2, "title": f"User:{acc['handle']}"})
            if "details" in props:
                # no thanked revision: MediaWiki keeps it only in log_search (thankid=rev-<id>),
                # which the API does not expose (the world draws thanks accordingly: _thanks_settled)
                event["params"] = {}
            if "type" in props:
                event.update({"type": "thanks", "action": "thank"})
            if "user" in props:
                event["user"] = thanker["handle"]
            if "userid" in props:
                event["userid"] = int(thanker["account_id"])
            if "timestamp" in props:
                event["timestamp"] = mw_time(int(tl.ms[i]))
            if "comment" in props:
                event["comment"] = ""
            events.append(event)
        more = {"lecontinue": f"{_ts14(int(tl.ms[rest[0]]))}|{int(tl.keys[rest[0]])}"} if rest else {}
        return events, more

    # ------------------------------------------------------------------ prop=revisions

    def revisions(self, query: dict, clock_ms: int, v2: bool):
        ids = [x for x in (query.get("pageids") or "").split("|") if x]
        titles = [t for t in (query.get("titles") or "").split("|") if t]
        if ids and titles:
            raise _ApiError("invalidparammix", 'The parameters "titles" and "pageids" can not be used together.')
        single = any(
            query.get(k) for k in ("rvlimit", "rvstartid", "rvendid", "rvdir", "rvstart", "rvend", "rvcontinue")
        )
        if single and len(ids) + len(titles) > 1:
            raise _ApiError(
                "multpages",
                "titles, pageids or a generator was used to supply multiple pages, but the rvlimit, rvstartid, "
                "rvendid, rvdir=newer, rvuser, rvexcludeuser, rvstart, and rvend parameters may only be used on a "
                "single page.",
            )
        props = set((query.get("rvprop") or "ids|timestamp|flags|comment|user").split("|"))
        pages, more = [], {}
        for key in ids or titles:
            post_id = key if ids else self._title_map().get(normalise_name(key))
            post = self.ix.post(post_id, clock_ms) if post_id else None
            if post is None or post["network"] != "wikipedia" or post["kind"] != "post":
                pages.append({"pageid": int(key), "missing": True} if ids else {"ns": 0, "title": key, "missing": True})
                continue
            revisions = self._page_revisions(post, clock_ms)
            chain = [int(r["post_id"]) for r in revisions]
            if not single:
                selected = [len(revisions) - 1]
            else:
                newer = query.get("rvdir") == "newer"
                order = list(range(len(revisions))) if newer else list(range(len(revisions) - 1, -1, -1))
                start = _continue_id(query.get("rvcontinue"), "rvcontinue") or _int_or_none(query.get("rvstartid"))
                if start is not None:
                    order = [i for i in order if (chain[i] >= start if newer else chain[i] <= start)]
                limit = _limit(query, "rvlimit", 10)
                selected, rest = order[:limit], order[limit:]
                if rest:
                    more = {"rvcontinue": f"{_ts14(revisions[rest[0]]['ms'])}|{chain[rest[0]]}"}
            page = {
                "pageid": int(post["post_id"]),
                "ns": 0,
                "title": _title(post["topic_slug"], post["post_id"]),
                "revisions": [self._revision(revisions[i], chain[i - 1] if i else 0, props, v2) for i in selected],
            }
            pages.append(page)
        if not v2:
            return {str(p.get("pageid", -1 - n)): p for n, p in enumerate(pages)}, more
        return pages, more

    def _revision(self, post: dict, parent: int, props: set[str], v2: bool) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        rev: dict = {}
        if "ids" in props:
            rev.update({"revid": int(post["post_id"]), "parentid": parent})
        if "flags" in props and v2:
            rev["minor"] = False
        if "user" in props:
            rev["user"] = acc["handle"]
        if "userid" in props:
            rev["userid"] = int(acc["account_id"])
        if "timestamp" in props:
            rev["timestamp"] = mw_time(post["ms"])
        if "size" in props:
            rev["size"] = _size(post["post_id"])
        if "comment" in props:
            rev["comment"] = self.summary(post)
        return rev

    # ------------------------------------------------------------------ REST pageviews

    def pageviews(self, path: str, clock_ms: int) -> Reply:
        parts = path.removeprefix(PAGEVIEWS).split("/")
        if len(parts) != 7:
            return Reply(404, problem("not_found", "Not found.", "The requested resource was not found", path))
        project, access, agent, article, granularity, start, end = parts
        invalid = None
        if access not in ("all-access", "desktop", "mobile-app", "mobile-web"):
            invalid = f"access must be one of all-access, desktop, mobile-app, mobile-web, not {access}"
        elif agent not in ("all-agents", "user", "spider", "automated"):
            invalid = f"agent must be one of all-agents, user, spider, automated, not {agent}"
        elif granularity not in ("daily", "monthly"):
            invalid = "granularity should be daily or monthly"
        first, last = _rest_day(start), _rest_day(end)
        if invalid is None and (first is None or last is None):
            invalid = "start and end must be dates in YYYYMMDD or YYYYMMDDHH format"
        elif invalid is None and first > last:
            invalid = "start timestamp should be before the end timestamp"
        if invalid:
            return Reply(400, problem("invalid_request", "Invalid parameters", invalid, path))
        title = unquote(article).replace("_", " ")
        post_id = self._title_map().get(title)
        post = self.ix.post(post_id, clock_ms) if post_id else None
        today = datetime.fromtimestamp(clock_ms / 1000, tz=UTC).date()
        items = []
        if project.removesuffix(".org") == "en.wikipedia" and post is not None:
            created = datetime.fromtimestamp(post["ms"] / 1000, tz=UTC).date()
            author = self.ix.account_by_id[post["account_id"]]
            day = max(first, created)
            by_key: dict[str, int] = {}
            while day <= min(last, today):
                views = _views(post["post_id"], day, int(author["followers_count"]), access, agent)
                key = day.strftime("%Y%m%d00") if granularity == "daily" else day.strftime("%Y%m0100")
                by_key[key] = by_key.get(key, 0) + views
                day += timedelta(days=1)
            items = [
                {
                    "project": "en.wikipedia",
                    "article": article,
                    "granularity": granularity,
                    "timestamp": key,
                    "access": access,
                    "agent": agent,
                    "views": views,
                }
                for key, views in by_key.items()
            ]
        if not items:
            return Reply(
                404,
                problem(
                    "not_found",
                    "Not found.",
                    "The date(s) you used are valid, but we either do not have data for those date(s), or the "
                    "project you asked for is not loaded yet. Please check documentation for more information.",
                    path,
                ),
            )
        return Reply(200, {"items": items})


# ---------------------------------------------------------------------- helpers


def _title(topic_slug: str, page_id: str) -> str:
    return f"{topic_slug.replace('-', ' ').capitalize()} ({page_id})"


def _size(revid: str) -> int:
    return 400 + int(revid) % 24_000


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        raise _ApiError("badinteger", f'Invalid value "{raw}" for integer parameter.') from None


def _ts_ms(raw: str | None) -> int | None:
    """An API timestamp parameter (ISO 8601 or 14 digits) -> epoch ms."""
    if not raw:
        return None
    try:
        if raw.isdigit() and len(raw) == 14:
            parsed = datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _ApiError("badtimestamp", f'Invalid value "{raw}" for timestamp parameter.') from None
    return int(parsed.timestamp() * 1000)


def _rest_day(raw: str) -> date | None:
    try:
        return datetime.strptime(raw[:8], "%Y%m%d").date() if len(raw) in (8, 10) and raw.isdigit() else None
    except ValueError:
        return None


def _views(post_id: str, day: date, followers: int, access: str, agent: str) -> int:
    """Deterministic daily views of a page: more for a better-known author; split by access/agent."""
    digest = hashlib.blake2b(f"{post_id}|{day.isoformat()}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    views = int(u * (6 + 3 * followers**0.5))
    share = {"all-access": 1.0, "desktop": 0.45, "mobile-web": 0.5, "mobile-app": 0.05}[access]
    share *= {"all-agents": 1.0, "user": 0.9, "spider": 0.08, "automated": 0.02}[agent]
    return int(views * share)


def _is_action_api(target: str) -> bool:
    return urlsplit(target).path == API_PATH


def _refuse(headers: Mapping[str, str]) -> Reply | None:
    """Wikimedia's User-Agent policy: no agent, or a library's default one, is refused."""
    agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "").strip()
    descriptive = bool(agent) and not _GENERIC_AGENTS.match(agent) and ("http" in agent or "@" in agent)
    return None if descriptive else Reply(403, UA_REFUSAL)


def maxlag_reply(lag: int, target: str) -> Reply:
    """HTTP 200 with a `maxlag` error, Retry-After and X-Database-Lag (Manual:Maxlag_parameter)."""
    v2 = dict(parse_qsl(urlsplit(target).query)).get("formatversion") in ("2", "latest")
    host = "db-replica-1"
    body = api_error("maxlag", f"Waiting for {host}: {lag} seconds lagged", v2, host=host, lag=lag, type="db")
    return Reply(200, body, {"Retry-After": str(lag), "X-Database-Lag": str(lag), "MediaWiki-API-Error": "maxlag"})


def _pushback(target: str, limit: int, remaining: int, reset_in: float) -> Reply | None:
    """Replicas lag under load: past half the window's budget, a request that sent `maxlag` is told
    to wait until the window renews (the sandbox's model of replication lag)."""
    query = dict(parse_qsl(urlsplit(target).query))
    if not _is_action_api(target) or "maxlag" not in query or remaining >= limit // 4:
        return None
    return maxlag_reply(max(1, int(-(-reset_in // 1))), target)


def _fault_reply(kind: str, target: str, variant: int) -> Reply | None:
    """Injected faults in Wikipedia's own kinds: a throttle is a `maxlag` error on the Action API
    (for a request that sent maxlag) and a problem+json 429 on REST; REST 5xx are problem+json."""
    path = urlsplit(target).path
    if kind == "429":
        if _is_action_api(target):
            return maxlag_reply(1, target) if "maxlag=" in target else None
        return Reply(
            429, problem("too_many_requests", "Too many requests", "Rate limit exceeded", path), {"Retry-After": "1"}
        )
    if kind in ("500", "502", "503") and path.startswith(REST_PREFIX):
        return Reply(int(kind), problem("internal_error", "Internal error", "Try again", path))
    return None


def _accounts(rng: np.random.Generator, numbers: np.ndarray, stems: pd.Series, private_share: float):
    """Numeric user ids, capitalised user names; Wikipedia has no private accounts."""
    account_id = pd.Series(46_000_000 + (numbers + 1) * 23).astype(str)
    return account_id, stems.str.capitalize(), np.zeros(len(numbers), dtype=bool)


def _post_ids(ms: np.ndarray, rank: np.ndarray, day_bits: int, authors: np.ndarray) -> np.ndarray:
    """Revision ids grow with time: seconds since 2001-01-15, then the day's bits and rank."""
    seconds = ms.astype(np.int64) // 1000 - _WIKI_EPOCH_S
    return ((seconds << 16) | (day_bits << 13) | (rank % 8192)).astype(str).astype(object)


def _rate_headers(limit: int, remaining: int, reset_epoch: float, window_s: float) -> dict[str, str]:
    """The Action API publishes no rate-limit headers: its signal is `maxlag` (see `_pushback`)."""
    return {}


def _error_body(code: str, message: str) -> dict:
    mw_code = {"RateLimitExceeded": "ratelimited", "InvalidRequest": "badvalue"}.get(code, "internal_api_error")
    return api_error(mw_code, message)


def _thanks_settled(posts: pd.DataFrame, reactions: pd.DataFrame) -> pd.DataFrame:
    """The thanks log names no revision, so a client can only attribute a thank to the thanked
    editor's latest edit at or before it: the world draws each thank for that edit (to the second,
    the API's resolution; of edits in the same second, the last), and keeps one thank per thanker
    and edit (MediaWiki allows no second)."""
    is_thank = (reactions.reaction_type == "thank").to_numpy()
    if not is_thank.any():
        return reactions
    thanks = reactions[is_thank].copy()
    thanks["_second"] = thanks.created_at.dt.floor("s")
    thanks["_order"] = np.arange(len(thanks))
    wiki = posts[posts.network == "wikipedia"]
    edits = pd.DataFrame(
        {
            "_second": wiki.created_at.dt.floor("s"),
            "_at": wiki.created_at,
            "target_account_id": wiki.account_id,
            "_edit": wiki.post_id,
        }
    ).sort_values(["_second", "_at", "_edit"], kind="stable")
    settled = pd.merge_asof(
        thanks.sort_values("_second", kind="stable"),
        edits.drop(columns="_at"),
        on="_second",
        by="target_account_id",
        direction="backward",
    ).sort_values("_order")
    thanks["post_id"] = settled["_edit"].fillna(settled["post_id"]).to_numpy()
    thanks = thanks.sort_values(["created_at", "_order"], kind="stable").drop_duplicates(
        ["post_id", "reactor_account_id", "reaction_type"]
    )
    return pd.concat([reactions[~is_thank], thanks.drop(columns=["_second", "_order"])], ignore_index=True)


DIALECT = NetworkDialect(
    name="wikipedia",
    joined=7,
    path_prefix=(API_PATH, REST_PREFIX),
    handler=Wikipedia,
    invalid_status=200,  # the Action API answers bad parameters with HTTP 200 and an error body
    error_body=_error_body,
    rate_headers=_rate_headers,
    reaction_mix=(("thank", 0.4), ("reply", 0.6)),
    accounts=_accounts,
    post_ids=_post_ids,
    sort_key=int,
    adoption=0.15,
    posts_rate=0.5,
    reactions_rate=0.5,
    refuse=_refuse,
    pushback=_pushback,
    fault_reply=_fault_reply,
    settle_reactions=_thanks_settled,
)
