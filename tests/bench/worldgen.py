"""Scale worlds straight into the raw tables of docs/contracts.md (no HTTP, no connectors), vectorised.

The population is the sandbox world generator's own (`sandbox/world.py`: `_persons`, `_accounts`,
`_alternate_private_consent`, `_profile_links`, every network's accounts). The content (posts,
reactions, mentions, replies and quotes as posts) is drawn here with the sandbox's model, in whole
numpy arrays per day and only for the two networks written (`NETWORKS`): an account posts
Poisson(posts_per_day x its person's activity) times a day at uniform times, on one of its person's
topics 85% of the time; 15% of posts mention one same-network account drawn by followers; a post
draws Poisson(reactions_per_post x (followers / median + 0.1)^0.6) candidate reactors by
reactivity, kept always on a topic overlap and 30% of the time otherwise (never the author, one
per (post, reactor, word)); the word comes from the dialect's `reaction_mix`, the delay is
exponential (mean 8 h, at most 5 days), and replies/quotes are posts of their own. The draws are
not the sandbox's bit for bit (each day has its own RNG stream, `_rng(seed, persons, day, 20)`,
so overlapping days of two worlds are still identical); only the numbers travel from numpy to
DuckDB, which builds the ids (Mastodon snowflakes, Bluesky AT-URIs with TIDs), texts and JSON
payloads with `json_object(...)` in one `INSERT ... SELECT` per table and day. Memory is bounded
by one day's arrays at any scale.

Ingest semantics are those of an in-order daily landing where every account is tracked (not only
registered persons' and public ones) except those the privacy gate excludes (see `_reactions_sql`):
partition D holds the posts created on D, the reactions created on D (posts and reactions created
after the world's last day are not yet visible and are dropped), and one profile snapshot per
account.

The platform tables are landed as `connectors/landing.py` lands them from the platform API
(`sandbox/platform.py: Platform`), drawn by the sandbox's own `_Day._kplus`, `_campaigns` and
`_topic_edits`: partition D holds the +K gives and profile topic edits made on D, and a snapshot of
every perk campaign started by D. Registered profiles and their links are one snapshot on the first
day; opted-out profiles keep only their id and the opt-out flag (what the registry keeps of them),
and the generator never has them give, receive or edit topics.
"""

from __future__ import annotations

import re
import resource
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import connectors
from connectors.landing import ensure_raw_tables
from connectors.privacy import PrivacyGate
from orchestration.warehouse import TopicStateStore
from sandbox import world as w
from sandbox.dialects import registered as dialects
from sandbox.dialects.common import B32_SORT
from sandbox.topics import HASHTAGS, TOPICS

NETWORKS = ("mastodon", "bluesky")  # the scale world is written straight into these two networks' raw tables
# posts_per_day 0.45 gives ~1 interaction (all kinds, incl. mentions) per person per day: 10k persons ->
# ~10k interactions/day -> ~0.9M over 90 days (and ~0.6 posts per person per day). It was 0.3 while the sandbox
# had fewer networks: since every person's primary network is one of ten, fewer accounts are on the two landed
# here, and 0.3 gave ~0.67 interactions per person per day (medium 6.1M instead of the 9.3M measured before).
POSTS_PER_DAY = 0.45
SIZES = {
    "small": dict(persons=10_000, days=90, posts_per_day=POSTS_PER_DAY),
    "medium": dict(persons=100_000, days=90, posts_per_day=POSTS_PER_DAY),
    "large": dict(persons=1_000_000, days=90, posts_per_day=POSTS_PER_DAY),
}
DEFAULT_END = date(2026, 3, 31)
PSEUDONYM_SALT = "open-klout"  # the development default of KLOUT_PSEUDONYM_SALT (orchestration/definitions.py)
DAY_MS = 86_400_000
MAX_DELAY_MS = int(w.MAX_REACTION_DELAY / timedelta(milliseconds=1))
KIND_POST, KIND_REPLY, KIND_QUOTE = 0, 1, 2
BATCH_ROWS = 2_000_000  # posts + reactions drawn before a write: days batched at small sizes, ~1.5 days at large


@dataclass(frozen=True)
class BenchWorld:
    persons: int
    days: int
    posts_per_day: float = POSTS_PER_DAY
    end_date: date = DEFAULT_END
    seed: int = 7
    preset: str = "default"  # sandbox/world.py PRESETS: "adversarial" mirrors its ability, bots, rings, community

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    def config(self) -> w.WorldConfig:
        return w.WorldConfig(
            seed=self.seed,
            persons=self.persons,
            days=self.days,
            posts_per_day=self.posts_per_day,
            end_date=self.end_date,
            preset=self.preset,
        )


def _sql_list(values) -> str:
    """A DuckDB list literal of strings (1-based `[...][i + 1]` lookups of small code columns)."""
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _words(network: str) -> list[str]:
    """A network's reaction words by code: its dialect's mix, then `mention`."""
    return [t[0] for t in dialects()[network].reaction_mix] + ["mention"]


# Bluesky record keys: the TID's 13 sortable base32 characters (sandbox/dialects/bluesky.py: _post_ids)
def _tid_sql(col: str) -> str:
    alphabet = "".join(B32_SORT)
    return " || ".join(f"substr('{alphabet}', cast(({col} >> {s}) & 31 as integer) + 1, 1)" for s in range(60, -1, -5))


def _post_id_sql(network: str, key: str, author_id: str) -> str:
    """A post id from its numeric key and its author's account id (the dialect's `post_ids`)."""
    if network == "mastodon":
        return f"cast({key} as varchar)"
    return f"'at://' || {author_id} || '/app.bsky.feed.post/' || {_tid_sql(key)}"


_TEXT_SQL = (
    "coalesce('@' || m.handle || ' ', '')"
    f" || {_sql_list(list(w._OPENERS) + list(w._REPLIES))}[p.opener + 1]"
    f" || ' ' || {_sql_list([t[3][1] for t in TOPICS])}[p.topic + 1]"
    f" || ' ' || {_sql_list(w._CLOSERS)}[p.closer + 1]"
    f" || ' #' || {_sql_list(HASHTAGS)}[p.topic + 1]"
)


def _posts_sql(network: str) -> str:
    """The day's posts of `network` as landing writes them; excluded authors are never fetched."""
    code = NETWORKS.index(network)
    post_id = _post_id_sql(network, "p.key", "a.account_id")
    parent_id = _post_id_sql(network, "p.parent_key", "pa.account_id")
    if network == "mastodon":
        payload = f"""json_object('id', {post_id}, 'content', '<p>' || {_TEXT_SQL} || '</p>', 'language', 'en',
                        'in_reply_to_id', case when p.kind = {KIND_REPLY} then {parent_id} end,
                        'favourites_count', 0, 'reblogs_count', 0)"""
    else:
        payload = f"""json_object('uri', {post_id}, 'cid', 'bafyrei' || md5({post_id}), 'record',
                        case
                            when p.kind = {KIND_REPLY} then json_object('$type', 'app.bsky.feed.post', 'text', {_TEXT_SQL},
                                'langs', json_array('en'), 'reply', json_object('parent', json_object('uri', {parent_id})))
                            when p.kind = {KIND_QUOTE} then json_object('$type', 'app.bsky.feed.post', 'text', {_TEXT_SQL},
                                'langs', json_array('en'), 'embed', json_object('$type', 'app.bsky.embed.record',
                                'record', json_object('uri', {parent_id})))
                            else json_object('$type', 'app.bsky.feed.post', 'text', {_TEXT_SQL}, 'langs', json_array('en'))
                        end)"""
    return f"""
        select '{network}', {post_id}, a.account_id, cast(epoch_ms(p.ms) as timestamptz),
            cast(epoch_ms(p.ms) as date), now(), {payload}
        from day_posts as p
        join bench_accounts as a on a.idx = p.author
        left join bench_accounts as pa on pa.idx = p.parent_author
        left join bench_accounts as m on m.idx = p.mention
        where p.net = {code} and p.ms <= $end_ms and not a.excluded
    """


def _reactions_sql(network: str) -> str:
    """The privacy gate of connectors/privacy.py, applied as landing applies it: excluded accounts
    (opted-out persons, private accounts without their owner's consent) are never fetched, so their
    posts, snapshots and mentions never land and reactions *to* them are dropped; reactions *by*
    them still land, under `PrivacyGate.pseudonym` and with an empty payload."""
    code = NETWORKS.index(network)
    words = _words(network)
    mention = words.index("mention")
    # a mention's post is the mentioning post (its author is the reactor); any other's, the target's
    post_id = _post_id_sql(
        network, "r.post_key", f"case when r.rtype = {mention} then a.account_id else t.account_id end"
    )
    carrier_id = _post_id_sql(network, "r.carrier_key", "a.account_id")
    gated = f"""
        with gated as (
            select '{network}' as network, {post_id} as post_id, t.account_id as target_account_id,
                {_sql_list(words)}[r.rtype + 1] as reaction_type, cast(epoch_ms(r.ms) as timestamptz) as created_at,
                case when r.carrier_key >= 0 then {carrier_id} end as carrier_post_id,
                a.excluded as reactor_excluded, a.handle, a.display_name,
                case when a.excluded then a.pseudonym else a.account_id end as reactor_account_id
            from day_reactions as r
            join bench_accounts as a on a.idx = r.reactor
            join bench_accounts as t on t.idx = r.target
            where r.net = {code} and r.ms <= $end_ms and not t.excluded
              and not (a.excluded and r.rtype = {mention})
        )
    """
    if network == "mastodon":
        return (
            gated
            + """
        select r.network, r.post_id, r.target_account_id, r.reactor_account_id, r.reaction_type,
            case when r.reaction_type in ('favourite', 'reblog') then null else r.created_at end as reacted_at,
            case when r.reaction_type = 'mention' then r.reactor_account_id else r.target_account_id end as source_account_id,
            cast(timezone('UTC', r.created_at) as date) as partition_day,
            now() as fetched_at,
            case
                when r.reactor_excluded then '{}'
                when r.reaction_type in ('favourite', 'reblog') then
                    json_object('id', r.reactor_account_id, 'acct', r.handle, 'username', r.handle,
                                'display_name', r.display_name)
                when r.reaction_type = 'reply' then
                    json_object('id', r.carrier_post_id, 'in_reply_to_id', r.post_id,
                                'account', json_object('id', r.reactor_account_id, 'acct', r.handle))
                else
                    json_object('id', r.post_id,
                                'account', json_object('id', r.reactor_account_id, 'acct', r.handle),
                                'mentions', json_array(json_object('id', r.target_account_id)))
            end as payload
        from gated as r
    """
        )
    return (
        gated
        + """
        select r.network, r.post_id, r.target_account_id, r.reactor_account_id, r.reaction_type,
            r.created_at as reacted_at,
            case when r.reaction_type = 'mention' then r.reactor_account_id else r.target_account_id end as source_account_id,
            cast(timezone('UTC', r.created_at) as date) as partition_day,
            now() as fetched_at,
            case
                when r.reactor_excluded then '{}'
                when r.reaction_type = 'like' then
                    json_object('actor', json_object('did', r.reactor_account_id, 'handle', r.handle),
                                'createdAt', strftime(r.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'),
                                'indexedAt', strftime(r.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
                when r.reaction_type = 'repost' then
                    json_object('did', r.reactor_account_id, 'handle', r.handle, 'displayName', r.display_name)
                else
                    json_object('uri', coalesce(r.carrier_post_id, r.post_id),
                                'author', json_object('did', r.reactor_account_id, 'handle', r.handle),
                                'record', json_object('$type', 'app.bsky.feed.post', 'text', ''))
            end as payload
        from gated as r
    """
    )


_ACCOUNTS_SQL = {
    "mastodon": """
        select 'mastodon', a.account_id, a.handle, d.day, now(),
            json_object('id', a.account_id, 'acct', a.handle, 'username', a.handle, 'display_name', a.display_name,
                        'followers_count', a.followers_count, 'following_count', a.following_count,
                        'statuses_count', a.base_statuses, 'locked', a.is_private)
        from bench_accounts as a, (select unnest(?::date[]) as day) as d where a.network = 'mastodon' and not a.excluded
    """,
    "bluesky": """
        select 'bluesky', a.account_id, a.handle, d.day, now(),
            json_object('did', a.account_id, 'handle', a.handle, 'displayName', a.display_name,
                        'followersCount', a.followers_count, 'followsCount', a.following_count,
                        'postsCount', a.base_statuses)
        from bench_accounts as a, (select unnest(?::date[]) as day) as d where a.network = 'bluesky' and not a.excluded
    """,
}


_KPLUS_SQL = """
    select give_id, giver_person_id, recipient_person_id, topic_slug, given_at, partition_day, now(),
        json_object('give_id', give_id, 'giver_person_id', giver_person_id, 'recipient_person_id', recipient_person_id,
                    'topic_slug', topic_slug, 'given_at', strftime(given_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
    from day_kplus
"""
_EDITS_SQL = """
    select edit_id, person_id, editor_person_id, topic_slug, action, edited_at, partition_day, now(),
        json_object('edit_id', edit_id, 'person_id', person_id, 'editor_person_id', editor_person_id,
                    'topic_slug', topic_slug, 'action', action, 'edited_at', strftime(edited_at, '%Y-%m-%dT%H:%M:%S.%gZ'))
    from day_edits
"""
# the platform lists every campaign started by the clock's day, so each partition holds them all
_CAMPAIGNS_SQL = """
    select campaign_id, d.day, now(),
        json_object('campaign_id', campaign_id, 'brand', brand, 'title', title, 'topics', topics,
                    'min_score', min_score, 'locations', locations, 'starts_on', strftime(starts_on, '%Y-%m-%d'),
                    'ends_on', strftime(ends_on, '%Y-%m-%d'), 'capacity', capacity)
    from bench_campaigns, (select unnest(?::date[]) as day) as d where starts_on <= d.day
"""


def profiles_of(persons: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Registered profiles as the platform API serves them: private when a linked account is."""
    private = set(accounts.loc[accounts.is_private, "person_id"])
    reg = persons.loc[
        persons.registered, ["person_id", "display_name", "birth_date", "location", "opted_out", "private_consent"]
    ].copy()
    reg["is_private"] = reg["person_id"].isin(private)
    reg["private_consent"] = reg["is_private"] & reg["private_consent"]
    return reg


def gate_accounts(persons: pd.DataFrame, accounts: pd.DataFrame, salt: str = PSEUDONYM_SALT) -> pd.DataFrame:
    """Accounts with `excluded` (never fetched: an opted-out owner, or private without consent) and the
    pseudonym their reactions land under (connectors.privacy.PrivacyGate)."""
    owner = accounts[["person_id"]].merge(
        persons[["person_id", "registered", "opted_out", "private_consent"]], on="person_id", how="left"
    )
    consented = (owner["registered"] & owner["private_consent"]).to_numpy(dtype=bool)
    excluded = owner["opted_out"].to_numpy(dtype=bool) | (accounts["is_private"].to_numpy(dtype=bool) & ~consented)
    out = accounts.assign(excluded=excluded, pseudonym=None)
    gates = {n: PrivacyGate(n, salt=salt) for n in out["network"].unique()}
    out.loc[excluded, "pseudonym"] = [
        gates[n].pseudonym(a) for n, a in zip(out.loc[excluded, "network"], out.loc[excluded, "account_id"])
    ]
    return out


class _Draws:
    """The day draws of posts and reactions for `NETWORKS`, as whole numpy arrays (see the module doc)."""

    def __init__(self, cfg: w.WorldConfig, persons: pd.DataFrame, person_topics: np.ndarray, accounts: pd.DataFrame):
        self.cfg, self.person_topics = cfg, person_topics
        self.pidx = accounts._person_idx.to_numpy()
        self.activity = persons.activity.to_numpy()[self.pidx]
        self.reactivity = persons.reactivity.to_numpy()[self.pidx]
        self.followers = accounts.followers_count.to_numpy().astype(float)
        self.median = max(np.median(self.followers), 1.0)  # over every network's accounts, as the sandbox
        net = accounts.network.to_numpy()
        self.pools = {n: np.flatnonzero(net == n) for n in NETWORKS}
        self.n_accounts = len(accounts)
        self.adversarial = cfg.preset == "adversarial"
        if self.adversarial:  # sandbox/world.py `_Day`: ability, not followers, drives reactions and mentions
            ability = persons.ability.to_numpy()[self.pidx]
            genuine = accounts._genuine_followers.to_numpy().astype(float)
            raw = ability * w.reach_multiplier(genuine, 0.2)
            scale = (self.activity * w.reach_multiplier(genuine)).sum() / max((self.activity * raw).sum(), 1e-12)
            self.multiplier = raw * scale  # `_Day._ability_multiplier`, over every network's accounts
            self.mention_weight = ability + 0.01
            self.bot = persons.archetype.to_numpy()[self.pidx] == "bot"
            self.rings = self._groups(persons, accounts, "ring_id")
            self.communities = self._groups(persons, accounts, "community_id")

    def _groups(self, persons: pd.DataFrame, accounts: pd.DataFrame, column: str) -> dict[str, list[np.ndarray]]:
        """Account rows of each ring (or community) in `column` on its network (`w.ring_network`), by network."""
        ring = persons[column].to_numpy(dtype=float, na_value=np.nan)[self.pidx]
        net = accounts.network.to_numpy()
        out: dict[str, list[np.ndarray]] = {}
        for r in sorted({int(x) for x in ring[~np.isnan(ring)]}):
            network = w.ring_network(self.cfg, r)
            members = np.flatnonzero((ring == r) & (net == network))
            if network in NETWORKS and len(members):
                out.setdefault(network, []).append(members)
        return out

    def day(self, day: date) -> tuple[dict, dict]:
        """(posts, reactions) columns of every post and reaction created by `day`'s draw."""
        rng = w._rng(self.cfg, day.toordinal(), 20)
        day_ms = int((pd.Timestamp(day, tz="UTC") - w._EPOCH) // pd.Timedelta(milliseconds=1))
        posts, reactions = [], []
        for code, network in enumerate(NETWORKS):
            p, r = self._network(rng, code, network, day, day_ms)
            posts.append(p)
            reactions.append(r)
        return (
            {k: np.concatenate([p[k] for p in posts]) for k in posts[0]},
            {k: np.concatenate([r[k] for r in reactions]) for k in reactions[0]},
        )

    def _network(self, rng, code: int, network: str, day: date, day_ms: int) -> tuple[dict, dict]:
        cfg, dialect, pool = self.cfg, dialects()[network], self.pools[network]
        author = np.repeat(pool, rng.poisson(cfg.posts_per_day * self.activity[pool] * dialect.posts_rate))
        n = len(author)
        ms = day_ms + rng.integers(0, DAY_MS, n)
        pt = self.person_topics[self.pidx[author]]
        own = pt[np.arange(n), (rng.random(n) * (pt >= 0).sum(axis=1)).astype(int)]
        topic = np.where(rng.random(n) < 0.85, own, rng.integers(0, len(TOPICS), n))

        # mentions: one same-network account chosen by audience (adversarial: by ability; max_mentions = 1), never the author
        weight = self.mention_weight[pool] if self.adversarial else self.followers[pool] + 1.0
        rows = np.flatnonzero(rng.random(n) < cfg.mention_share)
        picked = pool[rng.choice(len(pool), size=len(rows), p=weight / weight.sum())]
        mention = np.full(n, -1, dtype=np.int64)
        mention[rows] = np.where(picked == author[rows], -1, picked)

        # reactions: candidates by reactivity, kept on topic overlap (else 30%), one per (post, reactor, word)
        if self.adversarial:
            lam = cfg.reactions_per_post * dialect.reactions_rate * self.multiplier[author]
        else:
            lam = cfg.reactions_per_post * dialect.reactions_rate * (self.followers[author] / self.median + 0.1) ** 0.6
        post = np.repeat(np.arange(n), rng.poisson(np.minimum(lam, 0.5 * len(pool))))
        weight = self.reactivity[pool]
        reactor = pool[rng.choice(len(pool), size=len(post), p=weight / weight.sum())]
        on_topic = (self.person_topics[self.pidx[reactor]] == topic[post, None]).any(axis=1)
        keep = (rng.random(len(post)) < np.where(on_topic, 1.0, 0.3)) & (reactor != author[post])
        post, reactor = post[keep], reactor[keep]
        words = _words(network)
        probs = np.array([t[1] for t in dialect.reaction_mix])
        rtype = rng.choice(len(probs), size=len(post), p=probs / probs.sum())
        rms = ms[post] + np.minimum(rng.exponential(8 * 3_600_000, len(post)).astype(np.int64), MAX_DELAY_MS)
        _, first = np.unique((post.astype(np.int64) * self.n_accounts + reactor) * 8 + rtype, return_index=True)
        first.sort()
        post, reactor, rtype, rms = post[first], reactor[first], rtype[first], rms[first]
        if self.adversarial:  # ring posts, then bots', rings' and the community's reactions (streams of their own)
            (author, ms, topic, mention), (post, reactor, rtype, rms) = self._adversarial(
                network, day, day_ms, (author, ms, topic, mention), (post, reactor, rtype, rms)
            )
            n = len(author)

        # replies and quotes are posts too, by the reactor, on the parent's topic
        carrier_kind = np.select(
            [rtype == words.index(k) if k in words else np.zeros(len(rtype), bool) for k in ("reply", "quote")],
            [KIND_REPLY, KIND_QUOTE],
            KIND_POST,
        )
        c = np.flatnonzero(carrier_kind != KIND_POST)
        total = n + len(c)
        all_ms = np.concatenate([ms, rms[c]])
        order = np.argsort(all_ms, kind="stable")
        rank = np.empty(total, dtype=np.int64)
        rank[order] = np.arange(total)
        bits = day.toordinal() % 8
        if network == "mastodon":
            key = (all_ms << 16) | (bits << 13) | (rank % 8192)
        else:
            key = ((all_ms * 1000 + rank % 1000) << 10) | (bits << 7) | ((rank // 1000) % 128)
        parent = post[c]
        openers, replies = len(w._OPENERS), len(w._REPLIES)
        posts = {
            "net": np.full(total, code, dtype=np.int8),
            "key": key,
            "author": np.concatenate([author, reactor[c]]),
            "ms": all_ms,
            "topic": np.concatenate([topic, topic[parent]]),
            "kind": np.concatenate([np.zeros(n, dtype=np.int8), carrier_kind[c].astype(np.int8)]),
            "parent_key": np.concatenate([np.full(n, -1, dtype=np.int64), key[parent]]),
            "parent_author": np.concatenate([np.full(n, -1, dtype=np.int64), author[parent]]),
            "mention": np.concatenate([mention, np.full(len(c), -1, dtype=np.int64)]),
            "opener": np.concatenate([rng.integers(0, openers, n), openers + rng.integers(0, replies, len(c))]).astype(
                np.int8
            ),
            "closer": rng.integers(0, len(w._CLOSERS), total).astype(np.int8),
        }
        carrier_key = np.full(len(post), -1, dtype=np.int64)
        carrier_key[c] = key[n + np.arange(len(c))]
        m = np.flatnonzero(mention >= 0)
        reactions = {
            "net": np.full(len(post) + len(m), code, dtype=np.int8),
            "post_key": np.concatenate([key[post], key[m]]),
            "target": np.concatenate([author[post], mention[m]]),
            "reactor": np.concatenate([reactor, author[m]]),
            "rtype": np.concatenate([rtype, np.full(len(m), words.index("mention"))]).astype(np.int8),
            "ms": np.concatenate([rms, ms[m]]),
            "carrier_key": np.concatenate([carrier_key, key[m]]),
        }
        return posts, reactions

    def _adversarial(self, network: str, day: date, day_ms: int, posts: tuple, reactions: tuple) -> tuple:
        """The adversarial preset's extra content of a day, as sandbox/world.py `_Day` draws it
        (`_engagement_rings`, `_bots`, `_community`), appended after the ordinary draws: each engagement-ring
        member posts once more and every other member likes it within minutes (stream (day, 21)); every
        bot of the network likes each post of the day with p 0.9 within minutes (22); each community
        member reacts to half of the other members' posts and to as many posts outside it (23). Only
        plain (non-carrier) words, so no reply or quote posts follow. Duplicates of an ordinary
        reaction (post, reactor, word) are dropped, the ordinary one kept."""
        author, ms, topic, mention = posts
        post, reactor, rtype, rms = reactions
        words = _words(network)
        like = words.index(w.like_word(network))
        ordinal = day.toordinal()

        rng = w._rng(self.cfg, ordinal, 21)
        rings = self.rings.get(network, [])
        extra = np.concatenate(rings) if rings else np.zeros(0, dtype=np.int64)
        k = len(extra)
        extra_ms = day_ms + rng.integers(0, DAY_MS - 1_800_000, k)
        pt = self.person_topics[self.pidx[extra]]
        extra_topic = pt[np.arange(k), (rng.random(k) * (pt >= 0).sum(axis=1)).astype(int)]
        first = len(author)
        author, ms = np.concatenate([author, extra]), np.concatenate([ms, extra_ms])
        topic = np.concatenate([topic, extra_topic])
        mention = np.concatenate([mention, np.full(k, -1, dtype=np.int64)])
        ring_post, ring_reactor, start = [], [], first
        for members in rings:
            mine = start + np.arange(len(members))
            start += len(members)
            ring_post.append(np.repeat(mine, len(members)))
            ring_reactor.append(np.tile(members, len(members)))
        rp = np.concatenate(ring_post) if ring_post else np.zeros(0, dtype=np.int64)
        rr = np.concatenate(ring_reactor) if ring_reactor else np.zeros(0, dtype=np.int64)
        keep = rr != author[rp]
        rp, rr = rp[keep], rr[keep]
        r_ms = ms[rp] + rng.integers(30_000, 900_000, len(rp))

        rng = w._rng(self.cfg, ordinal, 22)
        pool = self.pools[network]
        bots = pool[self.bot[pool]]
        bp, br = np.repeat(np.arange(len(author)), len(bots)), np.tile(bots, len(author))
        keep = (rng.random(len(bp)) < 0.9) & (br != author[bp])
        bp, br = bp[keep], br[keep]
        b_ms = ms[bp] + rng.integers(10_000, 600_000, len(bp))

        rng = w._rng(self.cfg, ordinal, 23)
        dialect = dialects()[network]
        plain = [(i, p) for i, (word, p) in enumerate(dialect.reaction_mix) if word not in w.CARRIER_KINDS]
        codes, probs = np.array([i for i, _ in plain]), np.array([p for _, p in plain], dtype=float)
        cp, cr, c_ms, ct = [], [], [], []
        for members in self.communities.get(network, []):
            inside = np.isin(author, members)
            outside = np.flatnonzero(~inside)
            for member in members:
                ins = np.flatnonzero(inside & (author != member))
                ins = ins[rng.random(len(ins)) < 0.5]
                outs = np.sort(rng.choice(outside, size=min(len(ins), len(outside)), replace=False))
                chosen = np.concatenate([ins, outs])
                delay = np.minimum(rng.exponential(2 * 3_600_000, len(chosen)), 4 * DAY_MS).astype(np.int64)
                cp.append(chosen)
                cr.append(np.full(len(chosen), member, dtype=np.int64))
                c_ms.append(ms[chosen] + delay)
                ct.append(codes[rng.choice(len(codes), size=len(chosen), p=probs / probs.sum())])
        empty = [np.zeros(0, dtype=np.int64)]
        post = np.concatenate([post, rp, bp, *cp, *empty])
        reactor = np.concatenate([reactor, rr, br, *cr, *empty])
        rtype = np.concatenate([rtype, np.full(len(rp) + len(bp), like), *ct, *empty])
        rms = np.concatenate([rms, r_ms, b_ms, *c_ms, *empty])
        _, first_seen = np.unique((post.astype(np.int64) * self.n_accounts + reactor) * 8 + rtype, return_index=True)
        first_seen.sort()
        return (author, ms, topic, mention), (post[first_seen], reactor[first_seen], rtype[first_seen], rms[first_seen])


def _write_batch(conn, batch: list[tuple], posts_sql: dict, reactions_sql: dict, end_ms: int) -> int:
    """Land a few days' draws in one transaction, one `INSERT ... SELECT` per table; returns the
    campaign snapshot rows written."""
    days = [b[0] for b in batch]
    conn.register("day_posts", pd.DataFrame({k: np.concatenate([b[1][k] for b in batch]) for k in batch[0][1]}))
    conn.register("day_reactions", pd.DataFrame({k: np.concatenate([b[2][k] for b in batch]) for k in batch[0][2]}))
    conn.register("day_kplus", pd.concat([b[3].assign(partition_day=b[0]) for b in batch], ignore_index=True))
    conn.register("day_edits", pd.concat([b[5].assign(partition_day=b[0]) for b in batch], ignore_index=True))
    campaigns = [b[4] for b in batch if len(b[4])]
    conn.execute("begin")
    for net in NETWORKS:
        conn.execute(posts_sql[net], {"end_ms": end_ms})
        conn.execute(reactions_sql[net], {"end_ms": end_ms})
    if campaigns:
        conn.register("day_campaigns", pd.concat(campaigns, ignore_index=True))
        conn.execute(
            "insert into bench_campaigns select campaign_id, brand, title, topics, min_score, locations,"
            " starts_on, ends_on, capacity from day_campaigns"
        )
        conn.unregister("day_campaigns")
    conn.execute(f"insert into raw.platform_kplus {_KPLUS_SQL}")
    conn.execute(f"insert into raw.platform_topic_edits {_EDITS_SQL}")
    written = conn.execute(f"insert into raw.platform_campaigns {_CAMPAIGNS_SQL}", [days]).fetchone()[0]
    conn.execute("commit")
    for name in ("day_posts", "day_reactions", "day_kplus", "day_edits"):
        conn.unregister(name)
    return written


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process, every thread (DuckDB's too): what the work costs on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


TRUTH_FILE, RINGS_FILE = "truth.parquet", "truth_rings.parquet"


def truth_frames(persons: pd.DataFrame, accounts_gated: pd.DataFrame, rings: pd.DataFrame) -> tuple:
    """The world's ground truth keyed by every name the warehouse can give a person: the person id (a
    registered person's accounts resolve to it), and each landed network's account key
    (`<network>:<account id>`, an unregistered account's own person key) and, for an excluded account,
    the pseudonymous key its reactions land under. One row per key: key, person_id and the truth
    columns (sandbox/world.py TRUTH_COLUMNS); and the rings frame as the sandbox has it."""
    cols = ["person_id", *w.TRUTH_COLUMNS]
    own = persons[cols].assign(key=persons.person_id)
    acc = accounts_gated[accounts_gated.network.isin(NETWORKS)]
    by_account = pd.DataFrame({"key": acc.network + ":" + acc.account_id, "person_id": acc.person_id})
    excluded = acc[acc.excluded.to_numpy(dtype=bool)]
    by_pseudonym = pd.DataFrame({"key": excluded.network + ":" + excluded.pseudonym, "person_id": excluded.person_id})
    keyed = pd.concat([by_account, by_pseudonym], ignore_index=True).merge(persons[cols], on="person_id")
    truth = pd.concat([own, keyed], ignore_index=True).drop_duplicates("key")[["key", *cols]]
    return truth.reset_index(drop=True), rings.reset_index(drop=True)


def write_world(
    path: str, spec: BenchWorld, log=print, memory_limit: str = "2GB", truth_dir: str | None = None
) -> dict:
    """Generate `spec` into a fresh warehouse at `path`; returns row counts and timings. DuckDB's buffer
    pool is capped (`memory_limit`): the writes stream, and its default (80% of RAM) only grows the RSS.
    With `truth_dir`, the ground truth (`truth_frames`) goes to TRUTH_FILE and RINGS_FILE there, never
    into the warehouse: the privacy audit scans every schema for unmeasured persons."""
    t0, cpu0 = time.perf_counter(), _cpu_s()
    cfg = spec.config()
    persons, person_topics = w._persons(cfg)
    accounts = w._accounts(cfg, persons)
    persons, rings = w._rings(cfg, persons, accounts)  # as build_world does (nothing in the default preset)
    consenting = w._alternate_private_consent(persons, accounts)  # as build_world does
    links = w._profile_links(consenting, accounts)
    registered = profiles_of(consenting, accounts)
    accounts_gated = gate_accounts(consenting, accounts)
    if truth_dir is not None:
        truth, ring_rows = truth_frames(persons, accounts_gated, rings)
        truth.to_parquet(f"{truth_dir}/{TRUTH_FILE}", index=False)
        ring_rows.to_parquet(f"{truth_dir}/{RINGS_FILE}", index=False)
    draws = _Draws(cfg, persons, person_topics, accounts)
    end_ms = int((pd.Timestamp(w.end_of_day(spec.end_date)) - w._EPOCH) // pd.Timedelta(milliseconds=1))
    counts = {"reactions": 0, "posts": 0, "kplus_gives": 0, "topic_edits": 0, "campaigns": 0, "campaign_rows": 0}
    timings = {"population_s": round(time.perf_counter() - t0, 3), "draw_s": 0.0, "write_s": 0.0}
    with duckdb.connect(path) as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(f"set memory_limit = '{memory_limit}'")
        ensure_raw_tables(conn, connectors.NETWORKS)  # every network's tables (dbt unions them all); two are filled
        bench_accounts = accounts_gated.drop(columns=["_person_idx", "created_at"]).assign(
            idx=np.arange(len(accounts_gated), dtype=np.int64)
        )
        bench_accounts = bench_accounts[bench_accounts.network.isin(NETWORKS)]
        conn.register("bench_accounts_df", bench_accounts)
        conn.execute("create or replace temp table bench_accounts as select * from bench_accounts_df")
        conn.unregister("bench_accounts_df")
        counts["accounts"] = len(accounts)  # every network's (the population); NETWORKS' are landed
        counts["accounts_landed"] = int((~bench_accounts["excluded"]).sum())
        counts["excluded_accounts"] = int(accounts_gated["excluded"].sum())
        del bench_accounts, accounts_gated, consenting  # in DuckDB now: the day loop holds only numpy arrays
        conn.execute("""create or replace temp table bench_campaigns (campaign_id varchar, brand varchar, title varchar,
                        topics varchar[], min_score integer, locations varchar[], starts_on date, ends_on date,
                        capacity integer)""")
        posts_sql = {n: f"insert into raw.{n}_posts {_posts_sql(n)}" for n in NETWORKS}
        reactions_sql = {n: f"insert into raw.{n}_reactions select * from ({_reactions_sql(n)})" for n in NETWORKS}
        first = spec.start_date
        batch: list[tuple] = []
        rows = 0
        for i in range(spec.days):
            day = first + timedelta(days=i)
            t1 = time.perf_counter()
            posts, reactions = draws.day(day)
            platform = w._Day(cfg, persons, person_topics, accounts, day)
            kplus, campaigns, edits = platform._kplus(), platform._campaigns(), platform._topic_edits()
            batch.append((day, posts, reactions, kplus, campaigns, edits))
            rows += len(posts["ms"]) + len(reactions["ms"])
            counts["kplus_gives"] += len(kplus)
            counts["topic_edits"] += len(edits)
            counts["campaigns"] += len(campaigns)
            t2 = time.perf_counter()
            timings["draw_s"] += t2 - t1
            if rows >= BATCH_ROWS or i == spec.days - 1:
                counts["campaign_rows"] += _write_batch(conn, batch, posts_sql, reactions_sql, end_ms)
                batch, rows = [], 0
                timings["write_s"] += time.perf_counter() - t2
        t3 = time.perf_counter()
        all_days = [first + timedelta(days=i) for i in range(spec.days)]
        for net in NETWORKS:
            conn.execute(f"insert into raw.{net}_accounts {_ACCOUNTS_SQL[net]}", [all_days])
        conn.register("reg_df", registered)
        conn.register("links_df", links)
        # opted-out profiles keep only their id and the opt-out (orchestration.forgetting)
        conn.execute(
            """
            insert into raw.platform_profiles
            select person_id,
                   case when not opted_out then display_name end,
                   case when not opted_out then birth_date end,
                   case when not opted_out then location end,
                   opted_out, is_private, private_consent, ?::date, now(),
                   case when opted_out then '{}' else json_object('id', person_id, 'display_name', display_name) end
            from reg_df""",
            [first],
        )
        conn.execute(
            """
            insert into raw.platform_links
            select person_id, network, handle, ?::date, now(),
                   json_object('person_id', person_id, 'network', network, 'handle', handle)
            from links_df""",
            [first],
        )
        for kind in ("reactions", "posts"):
            counts[kind] = conn.execute(
                "select " + " + ".join(f"(select count(*) from raw.{n}_{kind})" for n in NETWORKS)
            ).fetchone()[0]
        counts["registered_persons"] = len(registered)
        conn.execute("checkpoint")
        timings["profiles_s"] = round(time.perf_counter() - t3, 3)
    counts["seconds"] = round(time.perf_counter() - t0, 3)
    counts.update({k: round(v, 3) for k, v in timings.items()})
    counts["persons_per_s"] = round(spec.persons / counts["seconds"], 1)
    counts["interactions_per_s"] = round(counts["reactions"] / counts["seconds"], 1)
    counts["peak_rss_mb_self"] = round(_rss_mb(), 1)
    counts["cpu_s"] = round(_cpu_s() - cpu0, 3)
    log(
        f"world {spec.persons} persons x {spec.days} days: {counts['reactions']:,} interactions, "
        f"{counts['posts']:,} posts in {counts['seconds']:.1f}s"
    )
    return counts


# the day column of each mart the daily job writes (dbt marts and the Python assets downstream)
DAY_COLUMNS = ("day", "as_of_day", "given_day")
DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
_REPLACE_WINDOW = re.compile(r"replace_window\(\s*'(\w+)'\s*\)")


def windowed_models() -> dict[str, str]:
    """`schema.table` -> window column of every dbt model a run fills a window at a time (its
    `replace_window(<column>)` pre-hook): the incremental tables a day's run writes that day's rows into."""
    found = {
        f"{sql.parent.name}.{sql.stem}": _REPLACE_WINDOW.search(sql.read_text()) for sql in DBT_MODELS.rglob("*.sql")
    }
    return {table: hook.group(1) for table, hook in sorted(found.items()) if hook}


def truncate_history(path: str, last_day: date, ran_through: date | None = None) -> None:
    """A warehouse landed through `last_day` whose runs went through `ran_through` (default: the day
    before): raw rows landed after `last_day` dropped, and every row a run after `ran_through` wrote:
    the windowed dbt models' (their window column), the marts' (their day column) and the scores'
    memos in `cache` (their `day`). Without the dbt and memo rows a day's run would find state from
    later days and redo its whole window, which no daily run does."""
    ran_through = ran_through or last_day - timedelta(days=1)
    windowed = windowed_models()
    with duckdb.connect(path) as conn:
        for net in NETWORKS:
            for kind in ("accounts", "posts", "reactions"):
                conn.execute(f"delete from raw.{net}_{kind} where partition_day > ?", [last_day])
        for kind in ("kplus", "topic_edits", "campaigns"):
            conn.execute(f"delete from raw.platform_{kind} where partition_day > ?", [last_day])
        columns = conn.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns"
            " where table_schema in ('intermediate', 'marts', 'cache') and (table_schema, table_name) in"
            " (select (table_schema, table_name) from information_schema.tables where table_type = 'BASE TABLE')"
            " order by table_schema, table_name, ordinal_position"
        ).fetchall()
        day_column: dict[str, str] = {}
        for table, column in columns:
            if table in windowed:
                day_column[table] = windowed[table]
            elif table not in day_column and column in (DAY_COLUMNS if table.startswith("marts.") else ("day",)):
                day_column[table] = column
        for table, column in sorted(day_column.items()):
            conn.execute(f"delete from {table} where {column} > ?", [ran_through])
        TopicStateStore.drop(conn)  # person_topics' carried days: later than this warehouse's history
        conn.execute("checkpoint")


def interactions_between(path: str, first: date, last: date) -> int:
    with duckdb.connect(path, read_only=True) as conn:
        parts = [f"(select count(*) from raw.{n}_reactions where partition_day between $1 and $2)" for n in NETWORKS]
        return conn.execute("select " + " + ".join(parts), [first, last]).fetchone()[0]
