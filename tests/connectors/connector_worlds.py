"""Small served worlds for collect/landing tests: one good account with posts inside, before and
after the window, one account that always fails. Endpoints a correct collector must skip are
deliberately not registered (responses refuses them, which fails the account)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from connector_helpers import BLUESKY, MASTODON, b_author, b_did, b_post, b_profile, iso, m_account, m_status
from responses import RequestsMock, matchers

DAY = date(2024, 5, 10)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=day_offset), time(hour, minute), UTC)


class MastodonWorld:
    def __init__(self, rsps: RequestsMock):
        self.rsps = rsps
        self.alice = m_account("1", "alice", followers=120)
        self.future = m_status(self.alice, at(1, 9))
        self.today = m_status(self.alice, at(0, 10), favourites=2, reblogs=1, replies=2, mentions=("9",))
        self.old = m_status(self.alice, at(-3, 8), favourites=2, replies=1)
        self.ancient = m_status(self.alice, at(-10, 8), favourites=5)
        self.seen = {("mastodon", self.old["id"], "5", "favourite")}

    def serve(self) -> None:
        rsps, alice = self.rsps, self.alice
        rsps.get(
            f"{MASTODON}/api/v1/accounts/lookup", json=alice, match=[matchers.query_param_matcher({"acct": "alice"})]
        )
        rsps.get(
            f"{MASTODON}/api/v1/accounts/lookup", status=503, match=[matchers.query_param_matcher({"acct": "bob"})]
        )
        rsps.get(f"{MASTODON}/api/v1/accounts/9", json=m_account("9"))  # the mentioned account: public
        url = f"{MASTODON}/api/v1/accounts/1/statuses"
        rsps.get(
            url,
            json=[self.future, self.today],
            headers={"Link": f'<{url}?limit=40&max_id={self.today["id"]}>; rel="next"'},
            match=[matchers.query_param_matcher({"limit": "40"})],
        )
        rsps.get(
            url,
            json=[self.old, self.ancient],
            match=[matchers.query_param_matcher({"limit": "40", "max_id": self.today["id"]})],
        )
        self._people(self.today, "favourited_by", ["3", "4"])
        self._people(self.today, "reblogged_by", ["5"])
        self._people(self.old, "favourited_by", ["5", "6"])
        reply = m_status(m_account("6"), at(0, 11), in_reply_to=self.today["id"])
        again = m_status(m_account("6"), at(0, 12), seq=1, in_reply_to=self.today["id"])
        nested = m_status(m_account("7"), at(0, 13), in_reply_to=reply["id"])
        late = m_status(m_account("8"), at(1, 1), in_reply_to=self.old["id"])
        self._context(self.today, [reply, again, nested])
        self._context(self.old, [late])

    def _people(self, status, endpoint, ids):
        self.rsps.get(f"{MASTODON}/api/v1/statuses/{status['id']}/{endpoint}", json=[m_account(i) for i in ids])

    def _context(self, status, descendants):
        self.rsps.get(
            f"{MASTODON}/api/v1/statuses/{status['id']}/context", json={"ancestors": [], "descendants": descendants}
        )


class BlueskyWorld:
    def __init__(self, rsps: RequestsMock):
        self.rsps = rsps
        self.did = b_did(1)
        self.handle = "ann.bsky.social"
        self.other = b_did(99)
        self.future = b_post(self.did, at(1, 9), "future")
        self.reposted = b_post(self.other, at(-20, 9), "someoneelse", likes=3)
        self.today = b_post(
            self.did, at(0, 10), "today", likes=2, reposts=1, replies=1, quotes=1, mentions=(self.other,)
        )
        self.old = b_post(self.did, at(-2, 10), "old", likes=2)  # one landed before, one new
        self.ancient = b_post(self.did, at(-9, 10), "ancient", likes=4)
        self.seen = {("bluesky", self.old["uri"], b_did(5), "like")}

    def serve(self) -> None:
        rsps = self.rsps
        xrpc = f"{BLUESKY}/xrpc"
        rsps.get(
            f"{xrpc}/app.bsky.actor.getProfile",
            json=b_profile(self.did, self.handle),
            match=[matchers.query_param_matcher({"actor": self.handle})],
        )
        rsps.get(
            f"{xrpc}/app.bsky.actor.getProfile",
            status=502,
            match=[matchers.query_param_matcher({"actor": "broken.bsky.social"})],
        )
        feed = f"{xrpc}/app.bsky.feed.getAuthorFeed"
        base = {"actor": self.did, "limit": "100", "filter": "posts_with_replies"}
        repost_reason = {
            "$type": "app.bsky.feed.defs#reasonRepost",
            "by": b_author(self.did),
            "indexedAt": iso(at(0, 9)),
        }
        rsps.get(
            feed,
            json={
                "feed": [{"post": self.future}, {"post": self.reposted, "reason": repost_reason}, {"post": self.today}],
                "cursor": "c1",
            },
            match=[matchers.query_param_matcher(base)],
        )
        rsps.get(
            feed,
            json={"feed": [{"post": self.old}, {"post": self.ancient}], "cursor": "c2"},
            match=[matchers.query_param_matcher({**base, "cursor": "c1"})],
        )
        self._likes(self.today, [(b_did(3), at(0, 11)), (b_did(4), at(1, 2))])
        self._likes(self.old, [(b_did(5), at(-2, 12)), (b_did(6), at(0, 1))])
        rsps.get(
            f"{xrpc}/app.bsky.feed.getRepostedBy", json={"uri": self.today["uri"], "repostedBy": [b_profile(b_did(7))]}
        )
        reply = b_post(b_did(8), at(0, 12), "reply", reply_to=self.today["uri"])
        rsps.get(
            f"{xrpc}/app.bsky.feed.getPostThread",
            json={
                "thread": {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": self.today,
                    "replies": [
                        {"$type": "app.bsky.feed.defs#threadViewPost", "post": reply, "replies": []},
                        {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://gone", "notFound": True},
                    ],
                }
            },
        )
        quote = b_post(b_did(9), at(0, 13), "quote")
        rsps.get(f"{xrpc}/app.bsky.feed.getQuotes", json={"uri": self.today["uri"], "posts": [quote]})

    def _likes(self, post, likers):
        likes = [{"actor": b_profile(did), "createdAt": iso(when), "indexedAt": iso(when)} for did, when in likers]
        self.rsps.get(
            f"{BLUESKY}/xrpc/app.bsky.feed.getLikes",
            json={"uri": post["uri"], "likes": likes},
            match=[matchers.query_param_matcher({"uri": post["uri"], "cid": post["cid"], "limit": "100"})],
        )
