"""Wikipedia client: the MediaWiki Action API (https://www.mediawiki.org/wiki/API:Main_page) and
the Wikimedia REST pageviews (https://wikimedia.org/api/rest_v1/metrics).

An editor's posts are their edits (post id = revision id). Reactions:
- `thank`: the thanks log (`list=logevents&letype=thanks`, title `User:<recipient>`), the thanker
  identified, with a time. The log does not say which edit was thanked: a thank is attributed to
  the recipient's latest edit at or before it (an assumption; see docs/contracts.md);
- `reply`: later edits by other editors to a page the editor created (`prop=revisions` after the
  creating revision), the other editor identified, with a time;
- mentions: `[[User:...]]` links in the edit summary (Echo notifies those users);
- page views of the pages the editor created (REST per-article pageviews): anonymous counts, kept
  in `Post.reaction_counts["view"]` only, never landed as rows.

Every Action API request sends `maxlag=5`; a `maxlag` error (HTTP 200, `Retry-After`) is waited
out through the rate budget and retried. Wikimedia requires a descriptive User-Agent with a
contact: `WIKIPEDIA_USER_AGENT` overrides the default.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from connectors.http import USER_AGENT, ConnectorError, HttpClient, HttpStatusError
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.ratelimit import RateSignal
from connectors.registry import NetworkSpec

NETWORK = "wikipedia"
DEFAULT_BASE_URL = "https://en.wikipedia.org"
API = "/w/api.php"
PAGEVIEWS = "/metrics/pageviews/per-article/:project/:access/:agent/:article/daily/:start/:end"
DEFAULT_USER_AGENT = USER_AGENT.replace("data-engineering connector", "wikipedia connector; ops contact on the site")
MAXLAG = 5
RETRYABLE_CODES = ("maxlag", "ratelimited", "readonly")
_USER_LINK = re.compile(r"\[\[\s*[Uu]ser\s*:\s*([^|\]#/]+)")
REACTION_WORDS = ("thank", "reply")
VIEWS = "view"  # anonymous: counted on the post, never landed as reaction rows


class MediaWikiApiError(ConnectorError):
    """The Action API answered with an `error` object (HTTP 200)."""

    def __init__(self, network, endpoint, account, message, *, code: str):
        self.code = code
        super().__init__(network, endpoint, account, message)


def maxlag_signal(headers: Mapping[str, str], body: Mapping[str, Any], now: float) -> RateSignal | None:
    """MediaWiki's own pushback: a `maxlag` error asks for a pause (Retry-After, else the lag, at
    least 5 s as the manual advises). The shared parser already reads a numeric Retry-After."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping) or error.get("code") not in RETRYABLE_CODES:
        return None
    retry_after = headers.get("retry-after", "")
    if retry_after.strip().isdigit():
        return RateSignal(backoff_seconds=float(retry_after))
    try:
        lag = float(error.get("lag") or headers.get("x-database-lag") or 0)
    except (TypeError, ValueError):
        lag = 0.0
    return RateSignal(backoff_seconds=max(float(MAXLAG), lag))


def _metrics_base(base_url: str) -> str:
    """Production pageviews live on wikimedia.org; the sandbox serves them on its own port."""
    host = urlsplit(base_url).hostname or ""
    if host.endswith(("wikipedia.org", "wikimedia.org", "mediawiki.org", "wiktionary.org")):
        return "https://wikimedia.org/api/rest_v1"
    return base_url.rstrip("/") + "/api/rest_v1"


def _project(base_url: str) -> str:
    host = urlsplit(base_url).hostname or ""
    return host.removesuffix(".org") if host.endswith(".wikipedia.org") else "en.wikipedia"


class WikipediaClient:
    network = NETWORK

    def __init__(
        self,
        http: HttpClient,
        *,
        user_agent: str | None = None,
        metrics_base_url: str | None = None,
        project: str | None = None,
        max_lag_retries: int = 10,
        environ: Mapping[str, str] = os.environ,
    ):
        self.http = http
        # what a walk of recent_posts read, by revision id (unique across accounts): shared by the
        # threads fetching several accounts at once, so never reset by one of them
        self._thanks: dict[str, list] = {}
        self._later_edits: dict[str, list] = {}
        http.session.headers["User-Agent"] = user_agent or environ.get("WIKIPEDIA_USER_AGENT") or DEFAULT_USER_AGENT
        self.metrics = copy.copy(http)  # same session, retries and rate budget; another host
        self.metrics.base_url = (
            metrics_base_url or environ.get("WIKIPEDIA_METRICS_BASE_URL") or _metrics_base(http.base_url)
        ).rstrip("/")
        self.project = project or environ.get("WIKIPEDIA_PROJECT") or _project(http.base_url)
        self.max_lag_retries = max_lag_retries
        self._user_ids: dict[str, str | None] = {}  # user name -> user id (None: no such user)
        # per account walk (reset by recent_posts): thanks and later edits per revision id
        self._thanks: dict[str, list[dict[str, Any]]] = {}
        self._later_edits: dict[str, list[dict[str, Any]]] = {}

    # --- native endpoints ---

    def query(self, params: Mapping[str, Any], *, endpoint: str, account: str | None) -> dict[str, Any]:
        """One `action=query` request; `maxlag` and the other retryable errors are retried after
        the pause the rate budget learnt from the answer."""
        full = {"action": "query", "format": "json", "formatversion": 2, "maxlag": MAXLAG, **params}
        for _ in range(self.max_lag_retries + 1):
            body = self.http.get(API, params=full, account=account)
            error = body.get("error") if isinstance(body, dict) else None
            if not error:
                if not isinstance(body, dict):
                    raise ConnectorError(self.network, endpoint, account, "expected a JSON object")
                return body
            code = str(error.get("code", "unknown"))
            if code not in RETRYABLE_CODES:
                raise MediaWikiApiError(
                    self.network, endpoint, account, f"API error {code}: {error.get('info', '')}", code=code
                )
        raise MediaWikiApiError(
            self.network, endpoint, account, f"still {code} after {self.max_lag_retries} retries", code=code
        )

    def query_pages(
        self, params: Mapping[str, Any], items_path: str, *, endpoint: str, account: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of a list/prop module, following `continue`: every key of it goes back unchanged."""
        params = dict(params)
        for _ in range(self.http.max_pages):
            body = self.query(params, endpoint=endpoint, account=account)
            items: Any = body
            for part in items_path.split("."):
                items = items.get(part) if isinstance(items, dict) else None
            if items is None and "query" not in body:
                items = []  # a batch with nothing in it has no `query` at all
            if not isinstance(items, list):
                raise ConnectorError(self.network, endpoint, account, f"expected a list at {items_path}")
            yield items
            following = body.get("continue")
            if not following:
                return
            params = {**params, **following}
        raise ConnectorError(self.network, endpoint, account, f"more than {self.http.max_pages} pages")

    def users(self, names: list[str], *, account: str | None = None) -> list[dict[str, Any]]:
        body = self.query(
            {"list": "users", "ususers": "|".join(names), "usprop": "editcount|registration"},
            endpoint="list=users",
            account=account,
        )
        return body.get("query", {}).get("users", [])

    def contributions(self, user: str, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        """The user's edits, newest first; lazy."""
        params = {
            "list": "usercontribs",
            "ucuser": user,
            "uclimit": limit,
            "ucdir": "older",
            "ucprop": "ids|title|timestamp|comment|size|flags",
        }
        for page in self.query_pages(params, "query.usercontribs", endpoint="list=usercontribs", account=user):
            yield from page

    def thanks_received(self, user: str, *, limit: int = 500) -> Iterator[dict[str, Any]]:
        """The thanks log entries naming `User:<user>`, newest first; lazy."""
        params = {
            "list": "logevents",
            "letype": "thanks",
            "letitle": f"User:{user}",
            "lelimit": limit,
            "leprop": "ids|title|type|user|userid|timestamp|details",
        }
        for page in self.query_pages(params, "query.logevents", endpoint="list=logevents", account=user):
            yield from page

    def page_revisions(self, pageid: str, start_revid: str, *, account: str | None = None) -> Iterator[dict]:
        """Revisions of one page from `start_revid` on, oldest first; lazy."""
        params = {
            "prop": "revisions",
            "pageids": pageid,
            "rvprop": "ids|timestamp|user|userid|comment|size",
            "rvlimit": 50,
            "rvdir": "newer",
            "rvstartid": start_revid,
        }
        for pages in self.query_pages(params, "query.pages", endpoint="prop=revisions", account=account):
            for page in pages:
                yield from page.get("revisions") or ()

    def pageviews(self, title: str, start: datetime, end: datetime, *, account: str | None = None) -> int:
        """Daily user views of an article summed over [start, end]; 0 when there is no data (404)."""
        path_params = {
            "project": self.project,
            "access": "all-access",
            "agent": "user",
            "article": title.replace(" ", "_"),
            "start": start.strftime("%Y%m%d"),
            "end": end.strftime("%Y%m%d"),
        }
        try:
            body = self.metrics.get(PAGEVIEWS, path_params=path_params, account=account)
        except HttpStatusError as exc:
            if exc.status == 404:
                return 0
            raise
        return sum(int(item.get("views") or 0) for item in body.get("items") or ())

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        found = self.users([handle], account=handle)
        user = found[0] if found else {"missing": True}
        if user.get("missing") is not None or user.get("invalid") is not None or "userid" not in user:
            raise HttpStatusError(self.network, "list=users", handle, "no such user", status=404)
        self._user_ids[user["name"]] = str(user["userid"])
        return AccountSnapshot(str(user["userid"]), user["name"], user)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        """The account's edits, newest first, each with its counters: thanks from the thanks log,
        later edits by others (pages it created that it is no longer the top editor of), views."""
        name = account.handle
        thanks = _ThanksLog(self.thanks_received(name))
        newer_at: datetime | None = None  # the time of the edit after this one
        for contribution in self.contributions(name):
            revid = str(contribution["revid"])
            created = parse_time(contribution["timestamp"])
            mentions = self._mentions(contribution.get("comment") or "", account)
            payload = {**contribution, "mentions": mentions} if mentions else contribution
            yield Post(
                post_id=revid,
                account_id=str(contribution["userid"]),
                created_at=created,
                payload=payload,
                # read only for posts the day needs: the counters cost calls here
                reaction_counts=_LazyCounts(
                    lambda c=contribution, t=created, n=newer_at: self._counts(c, t, n, thanks, account)
                ),
                mentioned_account_ids=tuple(m["userid"] for m in mentions),
            )
            newer_at = created

    def _counts(
        self, contribution: dict, created: datetime, newer_at: datetime | None, thanks: _ThanksLog, account
    ) -> dict[str, int]:
        revid = str(contribution["revid"])
        self._thanks[revid] = thanks.for_revision(revid, created, newer_at)
        counts = {"thank": len(self._thanks[revid]), "reply": 0}
        if contribution.get("new"):
            if not contribution.get("top"):
                edits = self._edits_by_others(contribution, account)
                self._later_edits[revid] = edits
                counts["reply"] = len({e["userid"] for e in edits})
            counts[VIEWS] = self.pageviews(
                contribution["title"], created, datetime.now(UTC), account=account.account_id
            )
        return counts

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        """From what the walk of `recent_posts` read: no further calls."""
        if reaction_type == "thank":
            for entry in self._thanks.get(post.post_id, ()):
                yield Reaction(str(entry["userid"]), parse_time(entry["timestamp"]), entry)
        elif reaction_type == "reply":
            for edit in self._later_edits.get(post.post_id, ()):
                yield Reaction(str(edit["userid"]), parse_time(edit["timestamp"]), edit)

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """Every `userid` at any depth: the author, thankers, editors, linked users."""
        if isinstance(payload, dict):
            if isinstance(payload.get("userid"), int | str) and not isinstance(payload.get("userid"), bool):
                yield str(payload["userid"])
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    # --- helpers ---

    def _edits_by_others(self, creation: dict[str, Any], account: AccountSnapshot) -> list[dict[str, Any]]:
        revid = str(creation["revid"])
        later = self.page_revisions(str(creation["pageid"]), revid, account=account.account_id)
        return [r for r in later if str(r.get("revid")) != revid and str(r.get("userid")) != account.account_id]

    def _mentions(self, comment: str, account: AccountSnapshot) -> list[dict[str, str]]:
        """Users linked in the edit summary, with their ids (one list=users call for the unknown)."""
        names = list(dict.fromkeys(_normalise(n) for n in _USER_LINK.findall(comment)))
        names = [n for n in names if n and n != account.handle]
        unknown = [n for n in names if n not in self._user_ids]
        for start in range(0, len(unknown), 50):
            for user in self.users(unknown[start : start + 50], account=account.account_id):
                self._user_ids[user["name"]] = str(user["userid"]) if "userid" in user else None
        return [{"userid": self._user_ids[n], "user": n} for n in names if self._user_ids.get(n)]


class _LazyCounts(Mapping):
    """A post's reaction counts, computed on first read."""

    def __init__(self, compute):
        self._compute, self._counts = compute, None

    def _all(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = self._compute()
        return self._counts

    def __getitem__(self, key: str) -> int:
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


class _ThanksLog:
    """The thanks log of one recipient, read lazily newest first as far as the walk needs."""

    def __init__(self, entries: Iterator[dict[str, Any]]):
        self._entries = entries
        self._read: list[dict[str, Any]] = []
        self._done = False

    def _read_back_to(self, since: datetime) -> None:
        while not self._done and (not self._read or parse_time(self._read[-1]["timestamp"]) >= since):
            entry = next(self._entries, None)
            if entry is None:
                self._done = True
            else:
                self._read.append(entry)

    def for_revision(self, revid: str, created: datetime, newer_at: datetime | None) -> list[dict[str, Any]]:
        """Thanks for this revision, by assumption: MediaWiki keeps the thanked revision out of the
        API (only in `log_search`, `thankid=rev-<id>`), so a thank is taken to be for the
        editor's latest edit at or before it, i.e. those given between this edit and the
        editor's next one (to the second, the log's resolution)."""
        self._read_back_to(created)
        found = []
        for entry in self._read:
            at = parse_time(entry["timestamp"])
            if at >= created and (newer_at is None or at < newer_at):
                found.append(entry)
        return [e for e in found if "userid" in e]


def _normalise(name: str) -> str:
    name = name.replace("_", " ").strip()
    return name[:1].upper() + name[1:]


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=WikipediaClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="WIKIPEDIA",
    reaction_types=REACTION_WORDS,
    anonymous_counts=(VIEWS,),
    account_counts={"posts_count": "editcount"},
    # no published read limit: API etiquette asks for serial requests; the REST metrics allow 100/s
    max_requests=50,
    per_seconds=10,
    rate_signals=maxlag_signal,
)
