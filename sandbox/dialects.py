"""Request handlers speaking Mastodon REST v1, Bluesky AppView XRPC and our platform API.

Each handler takes (index, clock_ms, base_url, query dict) and returns a `Reply`. Field names
follow the documented Mastodon entities and the atproto lexicons so production connectors run
against the sandbox unchanged.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from sandbox.index import WorldIndex

TAG_RE = re.compile(r"#(\w+)")


@dataclass
class Reply:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """Raised by handlers for invalid parameters; rendered in the dialect's error shape."""


def iso_ms(ms: int) -> str:
    """Mastodon/atproto timestamp style: 2019-12-08T03:48:33.901Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _date_param(query: dict) -> date:
    try:
        return datetime.strptime(query.get("date", ""), "%Y-%m-%d").date()
    except ValueError:
        raise BadRequest("date=YYYY-MM-DD is required") from None


def _int_param(query: dict, name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    return max(lo, min(hi, value))


# --------------------------------------------------------------------------- Mastodon REST v1


class Mastodon:
    def __init__(self, index: WorldIndex):
        self.ix = index

    def route(self, path: str, query: dict, clock_ms: int, base: str) -> Reply:
        parts = path.strip("/").split("/")[2:]  # after api/v1
        if parts == ["accounts", "lookup"]:
            acc = self.ix.account_by_handle.get(("mastodon", query.get("acct", "").lstrip("@")))
            return self._account_reply(acc, clock_ms, base)
        if len(parts) == 2 and parts[0] == "accounts":
            return self._account_reply(self._account(parts[1]), clock_ms, base)
        if len(parts) == 3 and parts[0] == "accounts" and parts[2] == "statuses":
            acc = self._account(parts[1])
            if acc is None:
                return not_found_mastodon()
            return self.statuses(acc, query, clock_ms, base, path)
        if len(parts) >= 2 and parts[0] == "statuses":
            post = self.ix.post(parts[1], clock_ms)
            if post is None or post["network"] != "mastodon":
                return not_found_mastodon()
            if len(parts) == 2:
                return Reply(200, self.status(post, clock_ms, base))
            if parts[2] == "context":
                return self.context(post, clock_ms, base)
            if parts[2] in ("favourited_by", "reblogged_by"):
                rtype = "favourite" if parts[2] == "favourited_by" else "reblog"
                return self.reactors(post, rtype, query, clock_ms, base, path)
        return not_found_mastodon()

    def _account(self, account_id: str) -> dict | None:
        acc = self.ix.account_by_id.get(account_id)
        return acc if acc and acc["network"] == "mastodon" else None

    def _account_reply(self, acc, clock_ms, base) -> Reply:
        if acc is None:
            return not_found_mastodon()
        return Reply(200, self.account(acc, clock_ms, base))

    def account(self, acc: dict, clock_ms: int, base: str) -> dict:
        statuses, last_ms = self.ix.statuses_count(acc, clock_ms)
        username = acc["handle"]
        avatar = f"{base}/avatars/{acc['account_id']}.png"
        header = f"{base}/headers/{acc['account_id']}.png"
        return {
            "id": acc["account_id"],
            "username": username,
            "acct": username,
            "display_name": acc["display_name"],
            "locked": bool(acc["is_private"]),
            "bot": False,
            "discoverable": True,
            "group": False,
            "indexable": True,
            "hide_collections": False,
            "created_at": iso_ms(int(acc["created_at"].value // 1_000_000)),
            "note": f"<p>{html.escape(acc['display_name'])} on the sandbox.</p>",
            "url": f"{base}/@{username}",
            "uri": f"{base}/users/{username}",
            "avatar": avatar,
            "avatar_static": avatar,
            "avatar_description": "",
            "header": header,
            "header_static": header,
            "header_description": "",
            "followers_count": int(acc["followers_count"]),
            "following_count": int(acc["following_count"]),
            "statuses_count": statuses,
            "last_status_at": iso_ms(last_ms)[:10] if last_ms is not None else None,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
            "roles": [],
            "emojis": [],
            "fields": [{"name": "Sandbox", "value": "synthetic", "verified_at": None}],
            "feature_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        }

    def status(self, post: dict, clock_ms: int, base: str) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        pid = post["post_id"]
        mentioned = [self.ix.account_by_id[m] for m in post["mentions"]]
        parent = self.ix.post(post["reply_to_post_id"], clock_ms) if post["reply_to_post_id"] else None
        return {
            "id": pid,
            "created_at": iso_ms(post["ms"]),
            "in_reply_to_id": post["reply_to_post_id"],
            "in_reply_to_account_id": parent["account_id"] if parent else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "private" if acc["is_private"] else "public",
            "language": "en",
            "uri": f"{base}/users/{acc['handle']}/statuses/{pid}",
            "url": f"{base}/@{acc['handle']}/{pid}",
            "replies_count": self.ix.count(pid, "reply", clock_ms),
            "reblogs_count": self.ix.count(pid, "reblog", clock_ms),
            "favourites_count": self.ix.count(pid, "favourite", clock_ms),
            "quotes_count": 0,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": self._content(post["text"], mentioned, base),
            "reblog": None,
            "application": {"name": "Web", "website": None},
            "account": self.account(acc, clock_ms, base),
            "media_attachments": [],
            "mentions": [
                {"id": m["account_id"], "username": m["handle"], "acct": m["handle"], "url": f"{base}/@{m['handle']}"}
                for m in mentioned
            ],
            "tags": [{"name": t.lower(), "url": f"{base}/tags/{t.lower()}"} for t in TAG_RE.findall(post["text"])],
            "emojis": [],
            "quote": None,
            "card": None,
            "poll": None,
            "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        }

    @staticmethod
    def _content(text: str, mentioned: list[dict], base: str) -> str:
        out = html.escape(text, quote=False)
        for m in mentioned:
            user = m["handle"]
            out = out.replace(
                f"@{user}",
                f'<span class="h-card"><a href="{base}/@{user}" class="u-url mention">@<span>{user}</span></a></span>',
            )
        out = TAG_RE.sub(
            lambda t: (
                f'<a href="{base}/tags/{t.group(1).lower()}" class="mention hashtag" '
                f'rel="tag">#<span>{t.group(1)}</span></a>'
            ),
            out,
        )
        return f"<p>{out}</p>"

    def statuses(self, acc, query, clock_ms, base, path) -> Reply:
        limit = _int_param(query, "limit", 20, 1, 40)
        tl = self.ix.account_posts(acc["account_id"])
        n = tl.visible(clock_ms)
        keys, rows = tl.keys[:n], tl.rows[:n]
        lo, hi = 0, n
        for name in ("since_id", "min_id"):
            if query.get(name):
                lo = max(lo, _bisect_right(keys, _int_id(query[name])))
        if query.get("max_id"):
            hi = min(hi, _bisect_left(keys, _int_id(query["max_id"])))
        candidates = list(rows[lo:hi][::-1])  # newest first
        if query.get("exclude_replies") in ("true", "1", "True"):
            candidates = [r for r in candidates if self.ix.posts.kind.iat[r] != "reply"]
        page = candidates[-limit:] if query.get("min_id") else candidates[:limit]
        statuses = [self.status(self.ix.post_at(r), clock_ms, base) for r in page]
        links = []
        if len(statuses) == limit:
            links.append(f'<{_url(base, path, query, max_id=statuses[-1]["id"])}>; rel="next"')
        if statuses:
            links.append(f'<{_url(base, path, query, min_id=statuses[0]["id"])}>; rel="prev"')
        return Reply(200, statuses, {"Link": ", ".join(links)} if links else {})

    def reactors(self, post, rtype, query, clock_ms, base, path) -> Reply:
        limit = _int_param(query, "limit", 40, 1, 80)
        tl = self.ix.reactions_of(post["post_id"], rtype)
        hi = tl.visible(clock_ms)
        if query.get("max_id"):
            hi = min(hi, _bisect_left(tl.keys, _int_id(query["max_id"])))
        rows = tl.rows[max(0, hi - limit) : hi][::-1]
        keys = tl.keys[max(0, hi - limit) : hi][::-1]
        reactor_ids = self.ix.reactions.reactor_account_id.to_numpy()
        accounts = [self.account(self.ix.account_by_id[reactor_ids[r]], clock_ms, base) for r in rows]
        headers = {}
        if len(accounts) == limit:
            headers["Link"] = f'<{_url(base, path, query, max_id=str(keys[-1]))}>; rel="next"'
        return Reply(200, accounts, headers)

    def context(self, post, clock_ms, base) -> Reply:
        tl = self.ix.replies(post["post_id"])
        rows = tl.rows[: tl.visible(clock_ms)]
        parent = self.ix.post(post["reply_to_post_id"], clock_ms) if post["reply_to_post_id"] else None
        return Reply(
            200,
            {
                "ancestors": [self.status(parent, clock_ms, base)] if parent else [],
                "descendants": [self.status(self.ix.post_at(r), clock_ms, base) for r in rows],
            },
        )


def not_found_mastodon() -> Reply:
    return Reply(404, {"error": "Record not found"})


def _int_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("ids are numeric") from None


def _bisect_left(keys, key) -> int:
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _bisect_right(keys, key) -> int:
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if key < keys[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _url(base: str, path: str, query: dict, **override) -> str:
    params = {k: v for k, v in query.items() if k not in ("max_id", "min_id", "since_id")}
    params.update(override)
    return f"{base}{path}?{urlencode(params)}"


# --------------------------------------------------------------------------- Bluesky AppView


class Bluesky:
    def __init__(self, index: WorldIndex):
        self.ix = index

    def route(self, nsid: str, query: dict, clock_ms: int, base: str) -> Reply:
        handler = {
            "app.bsky.actor.getProfile": self.get_profile,
            "app.bsky.feed.getAuthorFeed": self.get_author_feed,
            "app.bsky.feed.getLikes": self.get_likes,
            "app.bsky.feed.getRepostedBy": self.get_reposted_by,
            "app.bsky.feed.getPostThread": self.get_post_thread,
            "app.bsky.feed.getQuotes": self.get_quotes,
        }.get(nsid)
        if handler is None:
            return Reply(501, {"error": "MethodNotImplemented", "message": f"Method Not Implemented: {nsid}"})
        return handler(query, clock_ms)

    def _actor(self, query: dict) -> dict:
        actor = query.get("actor")
        if not actor:
            raise BadRequest('Params must have the property "actor"')
        acc = (
            self.ix.account_by_id.get(actor)
            if actor.startswith("did:")
            else self.ix.account_by_handle.get(("bluesky", actor))
        )
        if acc is None or acc["network"] != "bluesky":
            raise BadRequest("Profile not found")
        return acc

    def _uri(self, query: dict) -> str:
        uri = query.get("uri")
        if not uri:
            raise BadRequest('Params must have the property "uri"')
        return uri

    def profile_basic(self, acc: dict) -> dict:
        return {
            "did": acc["account_id"],
            "handle": acc["handle"],
            "displayName": acc["display_name"],
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{acc['account_id']}/sandbox@jpeg",
            "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": iso_ms(int(acc["created_at"].value // 1_000_000)),
        }

    def profile_view(self, acc: dict) -> dict:
        view = self.profile_basic(acc)
        view["description"] = f"{acc['display_name']} on the sandbox."
        view["indexedAt"] = view["createdAt"]
        return view

    def get_profile(self, query, clock_ms) -> Reply:
        acc = self._actor(query)
        posts, _ = self.ix.statuses_count(acc, clock_ms)
        view = self.profile_view(acc)
        view.update(
            {
                "followersCount": int(acc["followers_count"]),
                "followsCount": int(acc["following_count"]),
                "postsCount": posts,
            }
        )
        return Reply(200, view)

    def record(self, post: dict, clock_ms: int) -> dict:
        text = post["text"]
        facets = []
        for did in post["mentions"]:
            token = "@" + self.ix.account_by_id[did]["handle"]
            facets.append(_facet(text, token, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
        for tag in TAG_RE.findall(text):
            facets.append(_facet(text, "#" + tag, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
        record = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": iso_ms(post["ms"]),
            "langs": ["en"],
            "facets": [f for f in facets if f],
        }
        if post["reply_to_post_id"]:
            parent = self.ix.post(post["reply_to_post_id"], 2**62)
            ref = {"uri": parent["post_id"], "cid": parent["cid"]}
            record["reply"] = {"root": ref, "parent": ref}
        if post["quote_of_post_id"]:
            quoted = self.ix.post(post["quote_of_post_id"], 2**62)
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted["post_id"], "cid": quoted["cid"]},
            }
        return record

    def post_view(self, post: dict, clock_ms: int, embed_quote: bool = True) -> dict:
        acc = self.ix.account_by_id[post["account_id"]]
        pid = post["post_id"]
        view = {
            "uri": pid,
            "cid": post["cid"],
            "author": self.profile_basic(acc),
            "record": self.record(post, clock_ms),
            "bookmarkCount": 0,
            "replyCount": self.ix.count(pid, "reply", clock_ms),
            "repostCount": self.ix.count(pid, "repost", clock_ms),
            "likeCount": self.ix.count(pid, "like", clock_ms),
            "quoteCount": self.ix.count(pid, "quote", clock_ms),
            "indexedAt": iso_ms(post["ms"]),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        if post["quote_of_post_id"] and embed_quote:
            quoted = self.ix.post(post["quote_of_post_id"], clock_ms)
            view["embed"] = {
                "$type": "app.bsky.embed.record#view",
                "record": {
                    "$type": "app.bsky.embed.record#viewRecord",
                    "uri": quoted["post_id"],
                    "cid": quoted["cid"],
                    "author": self.profile_basic(self.ix.account_by_id[quoted["account_id"]]),
                    "value": self.record(quoted, clock_ms),
                    "indexedAt": iso_ms(quoted["ms"]),
                    "labels": [],
                    "likeCount": self.ix.count(quoted["post_id"], "like", clock_ms),
                    "replyCount": self.ix.count(quoted["post_id"], "reply", clock_ms),
                    "repostCount": self.ix.count(quoted["post_id"], "repost", clock_ms),
                    "quoteCount": self.ix.count(quoted["post_id"], "quote", clock_ms),
                    "embeds": [],
                },
            }
        return view

    def get_author_feed(self, query, clock_ms) -> Reply:
        acc = self._actor(query)
        limit = _int_param(query, "limit", 50, 1, 100)
        tl = self.ix.account_posts(acc["account_id"])
        hi = tl.visible(clock_ms)
        if query.get("cursor"):
            hi = min(hi, _bisect_left(tl.keys, query["cursor"]))
        no_replies = query.get("filter") == "posts_no_replies"
        feed, i = [], hi - 1
        while i >= 0 and len(feed) < limit:
            post = self.ix.post_at(int(tl.rows[i]))
            if not (no_replies and post["reply_to_post_id"]):
                item = {"post": self.post_view(post, clock_ms)}
                if post["reply_to_post_id"]:
                    parent = {
                        "$type": "app.bsky.feed.defs#postView",
                        **self.post_view(self.ix.post(post["reply_to_post_id"], clock_ms), clock_ms),
                    }
                    item["reply"] = {"root": parent, "parent": parent}
                feed.append(item)
            i -= 1
        body = {"feed": feed}
        if i >= 0 and feed:
            body["cursor"] = str(tl.keys[i + 1])
        return Reply(200, body)

    def _reaction_page(self, query, clock_ms, rtype):
        """(post, [(row, seq)...] newest first, next cursor or None) for likes/reposts."""
        uri = self._uri(query)
        limit = _int_param(query, "limit", 50, 1, 100)
        post = self.ix.post(uri, clock_ms)
        if post is None:
            return None, [], None
        tl = self.ix.reactions_of(uri, rtype)
        hi = tl.visible(clock_ms)
        if query.get("cursor"):
            try:
                hi = min(hi, _bisect_left(tl.keys, int(query["cursor"])))
            except ValueError:
                raise BadRequest("malformed cursor") from None
        lo = max(0, hi - limit)
        page = list(zip(tl.rows[lo:hi][::-1], tl.keys[lo:hi][::-1]))
        return post, page, (str(tl.keys[lo]) if lo > 0 else None)

    def get_likes(self, query, clock_ms) -> Reply:
        post, page, cursor = self._reaction_page(query, clock_ms, "like")
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        likes = [
            {
                "indexedAt": iso_ms(int(self.ix.reaction_ms[r])),
                "createdAt": iso_ms(int(self.ix.reaction_ms[r])),
                "actor": self.profile_view(self.ix.account_by_id[reactors[r]]),
            }
            for r, _ in page
        ]
        return Reply(200, _with_cursor({"uri": query["uri"], **_cid(post), "likes": likes}, cursor))

    def get_reposted_by(self, query, clock_ms) -> Reply:
        post, page, cursor = self._reaction_page(query, clock_ms, "repost")
        reactors = self.ix.reactions.reactor_account_id.to_numpy()
        actors = [self.profile_view(self.ix.account_by_id[reactors[r]]) for r, _ in page]
        return Reply(200, _with_cursor({"uri": query["uri"], **_cid(post), "repostedBy": actors}, cursor))

    def get_quotes(self, query, clock_ms) -> Reply:
        uri = self._uri(query)
        limit = _int_param(query, "limit", 50, 1, 100)
        post = self.ix.post(uri, clock_ms)
        tl = self.ix.quotes(uri)
        hi = tl.visible(clock_ms) if post else 0
        if query.get("cursor"):
            hi = min(hi, _bisect_left(tl.keys, query["cursor"]))
        lo = max(0, hi - limit)
        posts = [self.post_view(self.ix.post_at(int(r)), clock_ms) for r in tl.rows[lo:hi][::-1]]
        return Reply(
            200, _with_cursor({"uri": uri, **_cid(post), "posts": posts}, str(tl.keys[lo]) if lo > 0 else None)
        )

    def get_post_thread(self, query, clock_ms) -> Reply:
        uri = self._uri(query)
        depth = _int_param(query, "depth", 6, 0, 1000)
        parent_height = _int_param(query, "parentHeight", 80, 0, 1000)
        post = self.ix.post(uri, clock_ms)
        if post is None or post["network"] != "bluesky":
            return Reply(400, {"error": "NotFound", "message": f"Post not found: {uri}"})
        thread = self._thread(post, clock_ms, depth)
        if parent_height > 0 and post["reply_to_post_id"]:
            thread["parent"] = self._thread(self.ix.post(post["reply_to_post_id"], clock_ms), clock_ms, 0)
        return Reply(200, {"thread": thread})

    def _thread(self, post: dict, clock_ms: int, depth: int) -> dict:
        node = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(post, clock_ms)}
        if depth > 0:
            tl = self.ix.replies(post["post_id"])
            node["replies"] = [
                self._thread(self.ix.post_at(int(r)), clock_ms, depth - 1)
                for r in tl.rows[: tl.visible(clock_ms)][::-1]
            ]
        return node


def _facet(text: str, token: str, feature: dict) -> dict | None:
    """A richtext facet; atproto indexes facets by UTF-8 byte offsets."""
    pos = text.find(token)
    if pos < 0:
        return None
    start = len(text[:pos].encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(token.encode())}, "features": [feature]}


def _cid(post: dict | None) -> dict:
    return {"cid": post["cid"]} if post else {}


def _with_cursor(body: dict, cursor: str | None) -> dict:
    if cursor is not None:
        body["cursor"] = cursor
    return body


# --------------------------------------------------------------------------- Platform API


class Platform:
    """Our own platform: registered profiles with linked accounts, +K gives, perk campaigns."""

    def __init__(self, index: WorldIndex):
        world = index.world
        links = world.profile_links
        by_person = {pid: part for pid, part in links.groupby("person_id")}
        persons = world.persons[world.persons.registered].sort_values("person_id")
        self.profiles, self.changes = [], []  # changes: (opted out on, consent withdrawn on) per profile
        for p in persons.itertuples():
            part = by_person.get(p.person_id)
            linked = [] if part is None else [{"network": n, "handle": h} for n, h in zip(part.network, part.handle)]
            is_private = bool(part is not None and part.is_private.any())
            self.profiles.append(
                {
                    "person_id": p.person_id,
                    "display_name": p.display_name,
                    "birth_date": p.birth_date.isoformat(),
                    "location": p.location,
                    "opted_out": bool(p.opted_out),
                    "is_private": is_private,
                    "private_consent": bool(is_private and p.private_consent),
                    "linked_accounts": linked,
                }
            )
            self.changes.append((getattr(p, "opted_out_on", None), getattr(p, "consent_withdrawn_on", None)))
        self.gives = world.kplus_gives.assign(
            day=world.kplus_gives.given_at.dt.date, ms=world.kplus_gives.given_at.dt.as_unit("ms").astype("int64")
        )
        self.campaigns = world.perk_campaigns
        self.edits = world.topic_edits.assign(
            day=world.topic_edits.edited_at.dt.date, ms=world.topic_edits.edited_at.dt.as_unit("ms").astype("int64")
        )

    @staticmethod
    def _as_of(profile: dict, change: tuple, clock_day) -> dict:
        """The profile as the platform shows it on `clock_day`: later opt-outs and withdrawals applied."""
        opted_out_on, withdrawn_on = change
        if opted_out_on is not None and opted_out_on <= clock_day:
            profile = {**profile, "opted_out": True}
        if withdrawn_on is not None and withdrawn_on <= clock_day:
            profile = {**profile, "private_consent": False}
        return profile

    def route(self, path: str, query: dict, clock_ms: int) -> Reply:
        page = _int_param(query, "page", 1, 1, 10**9)
        per_page = _int_param(query, "per_page", 100, 1, 1000)
        clock_day = datetime.fromtimestamp(clock_ms / 1000, tz=UTC).date()
        if path == "/platform/v1/profiles":
            items = [self._as_of(profile, change, clock_day) for profile, change in zip(self.profiles, self.changes)]
        elif path == "/platform/v1/kplus":
            day = _date_param(query)
            g = self.gives[(self.gives.day == day) & (self.gives.ms <= clock_ms)]
            items = [
                {
                    "give_id": r.give_id,
                    "giver_person_id": r.giver_person_id,
                    "recipient_person_id": r.recipient_person_id,
                    "topic_slug": r.topic_slug,
                    "given_at": iso_ms(int(r.ms)),
                }
                for r in g.itertuples()
            ]
        elif path == "/platform/v1/topic_edits":
            day = _date_param(query)
            e = self.edits[(self.edits.day == day) & (self.edits.ms <= clock_ms)]
            items = [
                {
                    "edit_id": r.edit_id,
                    "person_id": r.person_id,
                    "editor_person_id": r.editor_person_id,
                    "topic_slug": r.topic_slug,
                    "action": r.action,
                    "edited_at": iso_ms(int(r.ms)),
                }
                for r in e.itertuples()
            ]
        elif path == "/platform/v1/campaigns":
            c = self.campaigns[self.campaigns.starts_on <= clock_day]
            items = [
                {
                    "campaign_id": r.campaign_id,
                    "brand": r.brand,
                    "title": r.title,
                    "topics": list(r.topics),
                    "min_score": int(r.min_score),
                    "locations": list(r.locations),
                    "starts_on": r.starts_on.isoformat(),
                    "ends_on": r.ends_on.isoformat(),
                    "capacity": int(r.capacity),
                }
                for r in c.itertuples()
            ]
        else:
            return Reply(404, {"error": "not_found"})
        start = (page - 1) * per_page
        return Reply(
            200,
            {
                "items": items[start : start + per_page],
                "page": page,
                "per_page": per_page,
                "has_more": start + per_page < len(items),
            },
        )
