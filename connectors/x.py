"""X API v2 client (https://docs.x.com/x-api): users, user timelines, likers, retweeters, quotes,
and replies through search on `conversation_id`.

Replies: `GET /2/tweets/search/recent` reaches only the last 7 days; `GET /2/tweets/search/all`
(full archive, Pro or Enterprise access, 1 request per second) reaches back to 2006. The search
is chosen per post by `X_SEARCH` (or `XClient(search=...)`): `auto` (default) uses recent when the
post is inside recent's 7 days (with a few minutes' margin) and all otherwise, and moves to all
when recent refuses the `start_time` (the server's clock ahead of ours); `all` always uses the
archive; `recent` never does, and for a post older than the horizon searches from the horizon on,
logging a warning that earlier replies are out of reach (a backfill older than a week then lands
no replies made before that week). Every search starts at the post's own time.

X's own habits this client handles: objects carry only the fields asked for (`tweet.fields`,
`user.fields`, `expansions`); a page without results has no `data`; a missing user or post is a
200 whose body holds only `errors` (raised here as an HttpStatusError with status 404, 403 for an
authorisation problem); paging is `meta.next_token` sent back as `pagination_token`; rate limits are
the `x-rate-limit-*` headers, which the shared RateBudget reads, and 429. Renamed fields of the
later spec (`post_count`, `repost_count`) are read as well as the older (`tweet_count`,
`retweet_count`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.http import HttpClient, HttpStatusError
from connectors.ingest import AccountSnapshot, Post, Reaction, parse_time
from connectors.registry import NetworkSpec

NETWORK = "x"
DEFAULT_BASE_URL = "https://api.x.com"
PAGE = 100  # the largest max_results of every endpoint used here
USER_FIELDS = "created_at,description,protected,public_metrics,verified"
TWEET_FIELDS = "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,public_metrics,referenced_tweets"
POST_EXPANSIONS = "entities.mentions.username,in_reply_to_user_id"
# native reaction word -> the post's public_metrics fields counting it (older name first)
REACTION_COUNTS = {
    "like": ("like_count",),
    "retweet": ("retweet_count", "repost_count"),
    "reply": ("reply_count",),
    "quote": ("quote_count",),
}
# counts of reactions whose reactors the API never names: kept in Post.reaction_counts, never landed as rows
ANONYMOUS_COUNTS = {"impression": ("impression_count",), "bookmark": ("bookmark_count",)}
SEARCH_MODES = ("auto", "recent", "all")
RECENT_HORIZON = timedelta(days=7)  # search/recent's reach back from now
HORIZON_MARGIN = timedelta(minutes=5)  # clocks differ: recent only for posts this far inside its horizon
ARCHIVE_PAGE = 500  # search/all's largest max_results
ARCHIVE_INTERVAL_S = 1.0  # search/all: 1 request per second
_STATUS_OF_PROBLEM = {"resource-not-found": 404, "not-authorized-for-resource": 403, "resource-unauthorized": 403}


log = logging.getLogger(__name__)


class XClient:
    network = NETWORK

    def __init__(self, http: HttpClient, *, search: str | None = None, now: Callable[[], float] = time.time):
        """`search`: auto, recent or all (default: env `X_SEARCH`, else auto); `now`: epoch
        seconds, the clock that search/recent's horizon is measured by."""
        self.http = http
        self._protected: dict[str, bool] = {}
        self.search = (search or os.environ.get("X_SEARCH") or "auto").strip().lower()
        if self.search not in SEARCH_MODES:
            raise ValueError(f"X_SEARCH must be one of {', '.join(SEARCH_MODES)}, not {self.search!r}")
        self.now = now
        self._archive_lock = threading.Lock()
        self._archive_last = float("-inf")
        self._warned_horizon = False

    # --- native endpoints ---

    def user_by_username(self, username: str) -> dict[str, Any]:
        body = self._get(
            "/2/users/by/username/:username", {"username": username}, {"user.fields": USER_FIELDS}, username
        )
        return self._seen(body["data"])

    def user(self, user_id: str) -> dict[str, Any]:
        body = self._get("/2/users/:id", {"id": user_id}, {"user.fields": USER_FIELDS}, user_id)
        return self._seen(body["data"])

    def tweets(self, user_id: str, *, start_time: str | None = None, end_time: str | None = None) -> Iterator[dict]:
        """The user's posts (retweets excluded), newest first; lazy, so a caller that stops early
        fetches no further pages."""
        params = {"max_results": PAGE, "exclude": "retweets", "start_time": start_time, "end_time": end_time}
        yield from self._posts("/2/users/:id/tweets", user_id, user_id, params)

    def mentions(self, user_id: str, *, start_time: str | None = None) -> Iterator[dict]:
        """Posts by others mentioning the user, newest first (not needed by the daily landing,
        which lands mentions from tracked accounts' own posts)."""
        yield from self._posts(
            "/2/users/:id/mentions", user_id, user_id, {"max_results": PAGE, "start_time": start_time}
        )

    def liking_users(self, tweet_id: str, *, account: str | None = None) -> Iterator[dict]:
        yield from self._users("/2/tweets/:id/liking_users", tweet_id, account)

    def retweeted_by(self, tweet_id: str, *, account: str | None = None) -> Iterator[dict]:
        yield from self._users("/2/tweets/:id/retweeted_by", tweet_id, account)

    def quote_tweets(self, tweet_id: str, *, account: str | None = None) -> Iterator[dict]:
        """Posts quoting the post, each as `{"data": post, "includes": {"users": [author]}}`."""
        yield from self._with_author("/2/tweets/:id/quote_tweets", {"id": tweet_id}, {}, account)

    def replies(self, tweet_id: str, *, account: str | None = None, since: datetime | None = None) -> Iterator[dict]:
        """Direct replies made from `since` (the post's time) on, shaped like `quote_tweets`: a
        search on the conversation (which also returns the post itself and replies to replies,
        left out here), through search/recent or search/all (see the module's docstring)."""
        for found in self._conversation(tweet_id, account, since):
            refs = found["data"].get("referenced_tweets") or ()
            if any(r.get("type") == "replied_to" and r.get("id") == tweet_id for r in refs):
                yield found

    def _conversation(self, tweet_id: str, account: str | None, since: datetime | None) -> Iterator[dict]:
        query = {"query": f"conversation_id:{tweet_id}"}
        horizon = datetime.fromtimestamp(self.now(), UTC) - RECENT_HORIZON + HORIZON_MARGIN
        inside = since is not None and since >= horizon
        if self.search == "all" or (self.search == "auto" and not inside):
            yield from self._archive(query, since, account)
            return
        if not inside:  # recent only, and the post is older than its horizon
            self._warn_horizon(tweet_id, horizon)
            since = horizon
        try:
            # materialised: a refusal comes with the first page, before anything is yielded
            found = list(
                self._with_author("/2/tweets/search/recent", {}, {**query, "start_time": _rfc3339(since)}, account)
            )
        except HttpStatusError as exc:
            if self.search != "auto" or not _refuses_start_time(exc):
                raise
            found = list(self._archive(query, since, account))  # the server's now is ahead of ours
        yield from found

    def _archive(self, query: dict, since: datetime | None, account: str | None) -> Iterator[dict]:
        params = {**query, "max_results": ARCHIVE_PAGE}
        if since is not None:
            params["start_time"] = _rfc3339(since)
        yield from self._with_author("/2/tweets/search/all", {}, params, account, pace=self._archive_pace)

    def _archive_pace(self) -> None:
        """search/all allows one request per second (per app), whatever its 15-minute window says."""
        with self._archive_lock:
            wait = self._archive_last + ARCHIVE_INTERVAL_S - time.monotonic()
            if wait > 0:
                self.http.retry.pause(wait)
            self._archive_last = time.monotonic()

    def _warn_horizon(self, tweet_id: str, horizon: datetime) -> None:
        message = (
            "X_SEARCH=recent: replies to post %s made before %s are beyond search/recent's 7 days and are "
            "not landed (X_SEARCH=auto or all uses the full-archive search, which needs Pro access)"
        )
        (log.debug if self._warned_horizon else log.warning)(message, tweet_id, horizon.isoformat())
        self._warned_horizon = True

    # --- paging and X's bodies ---

    def _get(self, endpoint: str, path_params: dict, params: dict, account: str | None) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        body = self.http.get(endpoint, path_params=path_params, params=params, account=account)
        if not isinstance(body, dict):
            raise HttpStatusError(NETWORK, endpoint, account, "expected a JSON object", status=200)
        if "data" not in body and body.get("errors"):  # X's 200 that only holds problems
            problem = body["errors"][0]
            kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
            message = problem.get("detail") or problem.get("message") or problem.get("title") or "error"
            raise HttpStatusError(
                NETWORK, endpoint, account, f"{kind}: {message}", status=_STATUS_OF_PROBLEM.get(kind, 400)
            )
        return body

    def _pages(
        self,
        endpoint: str,
        path_params: dict,
        params: dict,
        account: str | None,
        pace: Callable[[], None] | None = None,
    ) -> Iterator[dict]:
        """Bodies of every page: `meta.next_token` -> `pagination_token` until no token (or an
        empty page, or a token repeated); `pace` is called before each request."""
        params = dict(params)
        for _ in range(self.http.max_pages):
            if pace is not None:
                pace()
            body = self._get(endpoint, path_params, params, account)
            yield body
            token = (body.get("meta") or {}).get("next_token")
            if not token or not body.get("data") or token == params.get("pagination_token"):
                return
            params["pagination_token"] = token
        raise HttpStatusError(NETWORK, endpoint, account, f"more than {self.http.max_pages} pages", status=200)

    def _posts(self, endpoint: str, object_id: str, account: str | None, params: dict) -> Iterator[dict]:
        params = {**params, "tweet.fields": TWEET_FIELDS, "expansions": POST_EXPANSIONS, "user.fields": USER_FIELDS}
        for body in self._pages(endpoint, {"id": object_id}, params, account):
            for user in (body.get("includes") or {}).get("users") or ():
                self._seen(user)
            yield from body.get("data") or ()

    def _users(self, endpoint: str, tweet_id: str, account: str | None) -> Iterator[dict]:
        params = {"max_results": PAGE, "user.fields": USER_FIELDS}
        for body in self._pages(endpoint, {"id": tweet_id}, params, account):
            for user in body.get("data") or ():
                yield self._seen(user)

    def _with_author(
        self,
        endpoint: str,
        path_params: dict,
        params: dict,
        account: str | None,
        pace: Callable[[], None] | None = None,
    ) -> Iterator[dict]:
        params = {
            "max_results": PAGE,
            **params,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        for body in self._pages(endpoint, path_params, params, account, pace):
            users = {u["id"]: self._seen(u) for u in (body.get("includes") or {}).get("users") or ()}
            for tweet in body.get("data") or ():
                author = users.get(tweet.get("author_id"))
                yield {"data": tweet, "includes": {"users": [author] if author else []}}

    def _seen(self, user: dict[str, Any]) -> dict[str, Any]:
        if "protected" in user:
            self._protected[user["id"]] = bool(user["protected"])
        return user

    # --- ingest vocabulary ---

    def resolve_account(self, handle: str) -> AccountSnapshot:
        user = self.user_by_username(handle.removeprefix("@"))
        return AccountSnapshot(user["id"], user.get("username") or handle, user)

    def recent_posts(self, account: AccountSnapshot) -> Iterator[Post]:
        """Own posts only: a retweet (should the `exclude` be ignored) is a reaction to another post."""
        for tweet in self.tweets(account.account_id):
            refs = tweet.get("referenced_tweets") or ()
            if any(r.get("type") == "retweeted" for r in refs):
                continue
            metrics = tweet.get("public_metrics") or {}
            yield Post(
                post_id=tweet["id"],
                account_id=tweet.get("author_id") or account.account_id,
                created_at=parse_time(tweet["created_at"]),
                payload=tweet,
                reaction_counts={
                    word: _count(metrics, fields) for word, fields in {**REACTION_COUNTS, **ANONYMOUS_COUNTS}.items()
                },
                mentioned_account_ids=tuple(
                    m["id"] for m in (tweet.get("entities") or {}).get("mentions") or () if m.get("id")
                ),
                replied_to_account_id=tweet.get("in_reply_to_user_id"),
            )

    def reactions(self, post: Post, reaction_type: str) -> Iterator[Reaction]:
        tweet_id, account = post.post_id, post.account_id
        if reaction_type in ("like", "retweet"):  # X gives no time for likes and retweets
            people = (self.liking_users if reaction_type == "like" else self.retweeted_by)(tweet_id, account=account)
            for user in people:
                yield Reaction(user["id"], None, user, reactor_is_private=bool(user.get("protected")))
        elif reaction_type in ("reply", "quote"):
            if reaction_type == "reply":
                found = self.replies(tweet_id, account=account, since=post.created_at)
            else:
                found = self.quote_tweets(tweet_id, account=account)
            for item in found:
                tweet, authors = item["data"], item["includes"]["users"]
                yield Reaction(
                    tweet["author_id"],
                    parse_time(tweet["created_at"]),
                    item,
                    reactor_is_private=any(bool(u.get("protected")) for u in authors),
                )
        # anonymous counts (impression, bookmark) name nobody: nothing to land

    def accounts_named(self, payload: Any) -> Iterator[str]:
        """User objects and mention entities (they carry `username`), `author_id` and
        `in_reply_to_user_id`, at any depth."""
        if isinstance(payload, dict):
            if "username" in payload and isinstance(payload.get("id"), str):
                yield payload["id"]
            for key in ("author_id", "in_reply_to_user_id"):
                if isinstance(payload.get(key), str):
                    yield payload[key]
            for value in payload.values():
                yield from self.accounts_named(value)
        elif isinstance(payload, list):
            for value in payload:
                yield from self.accounts_named(value)

    def account_is_private(self, account_id: str) -> bool:
        """`protected`, from any user object seen so far, else asked once; an account that cannot
        be read counts as private."""
        if account_id not in self._protected:
            try:
                self.user(account_id)
            except HttpStatusError as exc:
                if exc.status not in (403, 404):
                    raise
                self._protected[account_id] = True
        return self._protected.setdefault(account_id, False)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refuses_start_time(error: HttpStatusError) -> bool:
    """A 400 `invalid-request` problem naming `start_time` (search/recent's horizon)."""
    problems = (error.body or {}).get("errors") if isinstance(error.body, dict) else None
    return error.status == 400 and any("start_time" in (p.get("parameters") or {}) for p in problems or ())


def _count(metrics: dict[str, Any], fields: tuple[str, ...]) -> int:
    return next((int(metrics[f]) for f in fields if metrics.get(f) is not None), 0)


SPEC = NetworkSpec(
    name=NETWORK,
    client_class=XClient,
    default_base_url=DEFAULT_BASE_URL,
    env_prefix="X",
    credentials_required=True,  # every call needs an access token
    reaction_types=tuple(REACTION_COUNTS),
    anonymous_counts=tuple(ANONYMOUS_COUNTS),
    account_counts={
        "followers_count": "$.public_metrics.followers_count",
        "following_count": "$.public_metrics.following_count",
        "posts_count": "$.public_metrics.tweet_count",
    },
    # until the x-rate-limit-* headers tell the real numbers: the tightest window of the endpoints
    # used (liking_users, retweeted_by, quote_tweets: 75 requests per 15 minutes per app)
    max_requests=75,
    per_seconds=900,
)
