"""Deterministic synthetic social world for the sandbox.

`build_world(WorldConfig(...))` returns a `World` holding pandas DataFrames:

- `persons`: person_id, display_name, birth_date (date), location, registered, opted_out,
  topics (list of slugs), audience (int, heavy-tailed), activity (post-rate multiplier),
  reactivity (0..1: how readily the person reacts; selective ... react-to-everything),
  private_consent (bool: consents to tracking their private accounts), opted_out_on and
  consent_withdrawn_on (date or None: a change part-way through history; see the platform API).
  Ground truth, never served: ability (float: what multiplies a post's expected reactions; in the
  default preset the follower-driven multiplier the draws use), archetype (ARCHETYPES; "ordinary"
  in the default preset), ring_id, kplus_ring_id, community_id (nullable ints, null in default).
- `rings`: ring_id, kind (engagement|kplus|community), person_id, network (None for +K): the
  adversarial preset's rings and honest community, one row per member; empty in the default preset.
- `accounts`: network, account_id, handle, person_id, display_name, is_private,
  followers_count, following_count, created_at (UTC), base_statuses (posts made before the world).
- `profile_links`: registered persons' linked accounts: person_id, network, handle, account_id,
  is_private, private_consent.
- `public_handles`: notable unregistered accounts to track: network, handle, account_id.
- `posts`: network, post_id, account_id, created_at (UTC), text, topic_slug (ground truth),
  kind ('post'|'reply'|'quote'), reply_to_post_id, quote_of_post_id, mentions (list of
  account_ids), cid (Bluesky only, else None).
- `reactions`: network, post_id, target_account_id, reactor_account_id, reaction_type (native
  word, see docs/contracts.md), created_at, carrier_post_id (the reply/quote/mentioning post),
  seq (int: global order of reactions by time, used by the server as an opaque cursor).
  Reactions may be timestamped after `end_date` (up to 5 days); the server's clock hides them.
  The words a dialect marks `anonymous` (Instagram likes...) are served only as counts on posts.
- `follows`: follower_account_id, followee_account_id (capped out-degree; counts come from audience).
- `kplus_gives`: give_id, giver_person_id, recipient_person_id, topic_slug, given_at.
- `topic_edits`: edit_id, person_id (profile owner), editor_person_id, topic_slug, action (add|remove), edited_at.
- `perk_campaigns`: campaign_id, brand, title, topics (list), min_score, locations (list),
  starts_on, ends_on, capacity.
- `topics`: slug, display_name, parent_slug, keywords.

Static parts (persons, accounts, follows) depend only on (seed, persons). Each calendar day's
content (posts created that day, the reactions to them, +K gives and campaigns started that day)
is drawn from an RNG seeded with (seed, persons, day ordinal), so shifting `end_date` keeps the
overlapping days identical. Draws added later take streams of their own (salts 10-14), so the
default preset stays bit-identical to the world before them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from sandbox.dialects import network_names, registered
from sandbox.dialects.common import random_strings
from sandbox.topics import HASHTAGS, TOPIC_SLUGS, TOPICS, topics_frame

CARRIER_KINDS = {"reply": "reply", "quote": "quote"}
MAX_REACTION_DELAY = timedelta(days=5) - timedelta(milliseconds=1)
# Birth dates are drawn relative to a fixed date so profiles do not drift as end_date moves;
# minors are 13-16 at this anchor and so stay minors well past it.
AGE_ANCHOR = date(2027, 1, 1)

_FIRST = np.array(
    "Ada Alan Grace Linus Maya Noor Omar Priya Quinn Rosa Sven Tara Uma Victor "
    "Wen Yara Zoe Ines Kofi Lena Mateo Nia Olu Pavel Rin Sami Theo Vera Yusuf Elif".split()
)
_LAST = np.array(
    "Hopper Lovelace Turing Okafor Silva Novak Tanaka Haddad Larsen Moreau Kowalski "
    "Rossi Ibrahim Chen Garcia Mensah Petrov Dubois Schmidt Nakamura".split()
)
LOCATIONS = np.array(
    [
        "London, United Kingdom",
        "Manchester, United Kingdom",
        "Berlin, Germany",
        "Paris, France",
        "Madrid, Spain",
        "Amsterdam, Netherlands",
        "New York, United States",
        "San Francisco, United States",
        "Toronto, Canada",
        "Lagos, Nigeria",
        "Tokyo, Japan",
        "Sydney, Australia",
    ]
)
_BRANDS = np.array("Northwind Contoso Fabrikam Initech Globex Umbrella Acme Hooli Stark Wayne".split())
_OPENERS = np.array(
    [
        "Thinking about",
        "Hot take on",
        "New thread on",
        "Loving",
        "Notes on",
        "Quick question about",
        "Reading up on",
        "Weekend plans:",
    ]
)
_CLOSERS = np.array(["today.", "- thoughts?", "again.", "this week!", "and more.", "(long read)"])
_REPLIES = np.array(["Great point on", "Not sure about", "Agree re", "Thanks for sharing, re"])
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
PRESETS = ("default", "adversarial")
ARCHETYPES = ("ordinary", "bought_followers", "dormant", "niche", "busy_no_impact", "bot")
# Rings and bots live where the bench mirrors the content (tests/bench/worldgen.py draws these two).
RING_NETWORKS = ("mastodon", "bluesky")
TRUTH_COLUMNS = ("ability", "archetype", "ring_id", "kplus_ring_id", "community_id")
RING_COLUMNS = ["ring_id", "kind", "person_id", "network"]


@dataclass(frozen=True)
class WorldConfig:
    """Parameters of the synthetic world; equal configs build identical worlds."""

    seed: int = 7
    persons: int = 200
    end_date: date = field(default_factory=lambda: datetime.now(UTC).date())
    days: int = 30
    posts_per_day: float = 0.6
    networks: tuple[str, ...] = field(default_factory=network_names)
    registered_share: float = 0.70
    minor_share: float = 0.08
    opt_out_share: float = 0.05
    late_opt_out_share: float = 0.03  # opt out (or withdraw consent) part-way through history
    private_share: float = 0.05
    reactions_per_post: float = 4.0
    mention_share: float = 0.15
    # The contract's reaction key (post, reactor, type) has no target, so two mentions in one
    # post would collide; raise to 2 only once the key includes the mentioned account.
    max_mentions: int = 1
    follows_cap: int = 50
    public_handles_per_network: int = 5
    kplus_per_day: float = 0.15
    # "default": follower count drives engagement (the draws above, unchanged). "adversarial": a
    # latent ability does, and the world holds what fools follower counts and naive scores:
    # archetypes, engagement rings, +K rings and an honest community (control group).
    preset: str = "default"
    ability_audience_corr: float = 0.3  # adversarial: correlation of log ability with log audience
    archetype_shares: tuple[tuple[str, float], ...] = (
        ("bought_followers", 0.05),
        ("dormant", 0.05),
        ("niche", 0.08),
        ("busy_no_impact", 0.05),
    )
    # Bots are a fixed number, not a share: each likes ~90% of its networks' posts, so a share of
    # the persons would make bots most of a large world's reactions (2% of 2,000 persons were 91%).
    bots: int = 4
    ring_sizes: tuple[int, ...] = (20, 35)  # engagement rings, on RING_NETWORKS in turn
    kplus_ring_sizes: tuple[int, ...] = (12,)
    community_size: int = 20  # an honest community that also reacts outside (>= 40%)

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {PRESETS}, not {self.preset!r}")

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)


def content_id_networks() -> list[str]:
    return [d.name for d in registered().values() if d.content_ids]


def end_of_day(day: date) -> datetime:
    """The ingest clock for partition `day` (23:59:59.999 UTC), per docs/contracts.md."""
    return datetime.combine(day, time(23, 59, 59, 999000), tzinfo=UTC)


@dataclass
class GroundTruth:
    """What an in-order daily ingest must land: posts and reactions with partition_day, and the
    counts of anonymous reactions (post_id, reaction_type, partition_day, total) each partition
    observes on the posts of its lookback window (zeros are not landed)."""

    posts: pd.DataFrame
    reactions: pd.DataFrame
    counts: pd.DataFrame


@dataclass
class World:
    config: WorldConfig
    topics: pd.DataFrame
    persons: pd.DataFrame
    accounts: pd.DataFrame
    profile_links: pd.DataFrame
    public_handles: pd.DataFrame
    follows: pd.DataFrame
    posts: pd.DataFrame
    reactions: pd.DataFrame
    kplus_gives: pd.DataFrame
    perk_campaigns: pd.DataFrame
    topic_edits: pd.DataFrame
    rings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RING_COLUMNS))

    def tracked_account_ids(self, network: str, public_handles: bool = True) -> list[str]:
        """Accounts a production ingest would track: linked by registered profiles (+ public handles)."""
        ids = set(self.profile_links.loc[self.profile_links.network == network, "account_id"])
        if public_handles:
            ids |= set(self.public_handles.loc[self.public_handles.network == network, "account_id"])
        return sorted(ids)

    def ground_truth(
        self, network: str, start_day: date, end_day: date, tracked_account_ids, lookback_days: int = 7, privacy=None
    ) -> GroundTruth:
        """Expected landing of an in-order daily ingest of [start_day, end_day] (docs/contracts.md),
        through `privacy` (a `connectors.privacy.PrivacyGate`) if given: the network's private
        accounts are pseudonymised as reactors and dropped as mention targets; without it, what
        the network serves."""
        private = (
            set()
            if privacy is None
            else set(self.accounts.loc[(self.accounts.network == network) & self.accounts.is_private, "account_id"])
        )
        private -= set(privacy.consented_private_ids) if privacy is not None else set()
        tracked = set(tracked_account_ids)
        posts = self.posts[(self.posts.network == network) & self.posts.account_id.isin(tracked)]
        post_day = posts.created_at.dt.date
        landed_posts = posts[(post_day >= start_day) & (post_day <= end_day)]
        gt_posts = pd.DataFrame(
            {
                "post_id": landed_posts.post_id.to_numpy(),
                "account_id": landed_posts.account_id.to_numpy(),
                "partition_day": landed_posts.created_at.dt.date.to_numpy(),
            }
        )

        anonymous = list(registered()[network].anonymous)
        counted = self.reactions[(self.reactions.network == network) & self.reactions.reaction_type.isin(anonymous)]
        reactions = self.reactions[
            (self.reactions.network == network)
            & ~self.reactions.reaction_type.isin(anonymous)
            & ~((self.reactions.reaction_type == "mention") & self.reactions.target_account_id.isin(private))
        ]
        # a mention's reactor is the fetched (tracked) author: it passed the gate, so it keeps its id
        reactions = reactions.assign(
            reactor_account_id=[
                privacy.pseudonym(r) if r in private and t != "mention" else r
                for r, t in zip(reactions.reactor_account_id, reactions.reaction_type)
            ]
        )
        mentions = reactions[(reactions.reaction_type == "mention") & reactions.post_id.isin(set(gt_posts.post_id))]
        mention_days = mentions.created_at.dt.date

        window = posts[(post_day >= start_day - timedelta(days=lookback_days)) & (post_day <= end_day)]
        others = reactions[
            (reactions.reaction_type != "mention")
            & reactions.post_id.isin(set(window.post_id))
            & (reactions.created_at <= end_of_day(end_day))
        ]
        other_days = others.created_at.dt.date.map(lambda d: max(d, start_day))

        gt_reactions = pd.concat(
            [
                pd.DataFrame(
                    {
                        "post_id": frame.post_id.to_numpy(),
                        "reactor_account_id": frame.reactor_account_id.to_numpy(),
                        "reaction_type": frame.reaction_type.to_numpy(),
                        "partition_day": days.to_numpy(),
                    }
                )
                for frame, days in ((mentions, mention_days), (others, other_days))
            ],
            ignore_index=True,
        )
        return GroundTruth(
            gt_posts.reset_index(drop=True),
            gt_reactions,
            _observed_counts(posts, counted, start_day, end_day, lookback_days),
        )


def _observed_counts(
    posts: pd.DataFrame, counted: pd.DataFrame, start_day: date, end_day: date, lookback_days: int
) -> pd.DataFrame:
    """For each partition day, the anonymous reactions each post of its lookback window holds by the
    end of that day (a landing fetches at the end of its day)."""
    frames = []
    post_day = posts.created_at.dt.date
    for offset in range((end_day - start_day).days + 1):
        day = start_day + timedelta(days=offset)
        window = set(posts.post_id[(post_day >= day - timedelta(days=lookback_days)) & (post_day <= day)])
        seen = counted[counted.post_id.isin(window) & (counted.created_at <= end_of_day(day))]
        totals = seen.groupby(["post_id", "reaction_type"]).size().rename("total").reset_index()
        frames.append(totals.assign(partition_day=day))
    columns = ["post_id", "reaction_type", "partition_day", "total"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def build_world(cfg: WorldConfig) -> World:
    """Build the whole world: static population, then one independent draw per calendar day."""
    persons, person_topics = _persons(cfg)
    accounts = _accounts(cfg, persons)
    persons, rings = _rings(cfg, persons, accounts)
    days = [cfg.start_date + timedelta(days=i) for i in range(cfg.days)]
    day_parts = [_Day(cfg, persons, person_topics, accounts, d).build() for d in days]

    posts = pd.concat([p[0] for p in day_parts], ignore_index=True)
    posts = posts.sort_values(["created_at", "post_id"], ignore_index=True)
    reactions = pd.concat([p[1] for p in day_parts], ignore_index=True)
    reactions = _settle_reactions(posts, reactions)
    reactions = reactions.sort_values(
        ["created_at", "post_id", "reactor_account_id", "reaction_type"], ignore_index=True
    )
    reactions["seq"] = np.arange(1, len(reactions) + 1, dtype=np.int64)
    kplus = pd.concat([p[2] for p in day_parts], ignore_index=True)
    campaigns = pd.concat([p[3] for p in day_parts], ignore_index=True)
    topic_edits = pd.concat([p[4] for p in day_parts], ignore_index=True)

    persons = _alternate_private_consent(persons, accounts)
    persons = _late_privacy_changes(cfg, persons, accounts)
    links = _profile_links(persons, accounts)
    follows = _follows(cfg, accounts)
    persons = persons.drop(columns=["_first", "_last"])
    accounts = accounts.drop(columns=["_person_idx", "_genuine_followers"], errors="ignore")
    return World(
        config=cfg,
        topics=topics_frame(),
        persons=persons,
        accounts=accounts,
        profile_links=links,
        public_handles=_public_handles(cfg, persons, accounts),
        follows=follows,
        posts=posts,
        reactions=reactions,
        kplus_gives=kplus,
        perk_campaigns=campaigns,
        topic_edits=topic_edits,
        rings=rings,
    )


def _settle_reactions(posts: pd.DataFrame, reactions: pd.DataFrame) -> pd.DataFrame:
    """Each network's reactions as its API can tell them apart (`NetworkDialect.settle_reactions`)."""
    for name, dialect in registered().items():
        mine = (reactions.network == name).to_numpy()
        if dialect.settle_reactions is None or not mine.any():
            continue
        settled = dialect.settle_reactions(posts, reactions[mine])
        reactions = pd.concat([reactions[~mine], settled], ignore_index=True)
    return reactions


def _rng(cfg: WorldConfig, *salt: int) -> np.random.Generator:
    return np.random.default_rng([cfg.seed, cfg.persons, *salt])


def _persons(cfg: WorldConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """Static population; returns the frame and an (n, 3) topic-index matrix padded with -1."""
    rng = _rng(cfg, 0)
    n = cfg.persons
    idx = np.arange(1, n + 1)
    first = _FIRST[rng.integers(0, len(_FIRST), n)]
    last = _LAST[rng.integers(0, len(_LAST), n)]

    minor = rng.random(n) < cfg.minor_share
    age_days = np.where(minor, rng.uniform(13, 16, n), rng.uniform(18, 75, n)) * 365.25
    birth = pd.to_datetime(AGE_ANCHOR) - pd.to_timedelta(age_days.astype(int), unit="D")

    registered = rng.random(n) < cfg.registered_share
    opted_out = registered & (rng.random(n) < cfg.opt_out_share)

    n_topics = rng.integers(1, 4, n)
    ranked = np.argsort(rng.random((n, len(TOPICS))), axis=1)[:, :3]
    person_topics = np.where(np.arange(3) < n_topics[:, None], ranked, -1)
    slugs = np.array(TOPIC_SLUGS, dtype=object)
    topics = [list(slugs[row[row >= 0]]) for row in person_topics]

    audience = np.minimum(np.floor(rng.lognormal(4.0, 1.7, n)), 5_000_000).astype(np.int64)
    activity = rng.lognormal(-0.5, 1.0, n)
    activity = activity / activity.mean()
    # Mixture: most people are selective, a few react to nearly everything they see.
    reactivity = np.where(rng.random(n) < 0.08, rng.uniform(0.7, 1.0, n), rng.beta(0.6, 6.0, n))

    persons = pd.DataFrame(
        {
            "person_id": pd.Series(idx).map("p{:06d}".format),
            "display_name": pd.Series(first) + " " + pd.Series(last),
            "birth_date": birth.date,
            "location": LOCATIONS[rng.integers(0, len(LOCATIONS), n)],
            "registered": registered,
            "opted_out": opted_out,
            "topics": topics,
            "audience": audience,
            "activity": activity,
            "reactivity": reactivity,
            "private_consent": rng.random(n) < 0.5,
            "_first": first,
            "_last": last,
        }
    )
    return _truth(cfg, persons), person_topics


def _truth(cfg: WorldConfig, persons: pd.DataFrame) -> pd.DataFrame:
    """The truth columns, from a stream of their own (salt 10) so no earlier draw moves. In the
    adversarial preset the archetypes also reshape audience, activity and reactivity, and ability
    departs from audience (log-correlation `ability_audience_corr`)."""
    rng = _rng(cfg, 10)
    n = len(persons)
    audience = persons.audience.to_numpy()
    archetype = np.full(n, "ordinary", dtype=object)
    persons = persons.copy()
    if cfg.preset == "default":
        ability = reach_multiplier(audience.astype(float))
    else:
        order, start = rng.permutation(n), 0
        for name, share in cfg.archetype_shares:  # at least one of each, so small worlds have them all
            k = max(1, round(share * n))
            archetype[order[start : start + k]] = name
            start += k
        archetype[order[start : start + cfg.bots]] = "bot"
        activity, reactivity, audience = persons.activity.to_numpy(), persons.reactivity.to_numpy(), audience.copy()
        kind = {name: archetype == name for name in ARCHETYPES}
        big = np.minimum(np.floor(rng.lognormal(7.5, 1.0, n)), 5_000_000).astype(np.int64)
        audience[kind["dormant"]] = np.maximum(audience, big)[kind["dormant"]]
        audience[kind["niche"]] = np.floor(rng.lognormal(2.0, 0.5, n)).astype(np.int64)[kind["niche"]]
        log_a = np.log1p(audience)
        z_aud = (log_a - log_a.mean()) / max(log_a.std(), 1e-9)
        rho = cfg.ability_audience_corr
        ability = np.exp(rho * z_aud + np.sqrt(1 - rho**2) * rng.standard_normal(n))
        for name, ability_x, activity_x in (
            ("dormant", 0.05, 0.2),
            ("niche", 5.0, 1.0),
            ("busy_no_impact", 0.02, 5.0),
            ("bot", 0.001, 0.1),
        ):
            ability = np.where(kind[name], ability * ability_x, ability)
            activity = np.where(kind[name], activity * activity_x, activity)
        persons["audience"] = audience
        persons["activity"] = activity
        persons["reactivity"] = np.where(kind["bot"], 1.0, reactivity)
    none = pd.array([pd.NA] * n, dtype="Int64")
    return persons.assign(
        ability=ability / ability.mean(), archetype=archetype, ring_id=none, kplus_ring_id=none, community_id=none
    )


def reach_multiplier(followers: np.ndarray, exponent: float = 0.6) -> np.ndarray:
    """How a post's expected reactions grow with its author's followers (relative to the median)."""
    return (followers / max(np.median(followers), 1.0) + 0.1) ** exponent


def _accounts(cfg: WorldConfig, persons: pd.DataFrame) -> pd.DataFrame:
    """Everyone has one primary network; 40% are on several: each other network with its
    dialect's `adoption` (drawn from a stream of its own, so adding a draw moves no other)."""
    rng = _rng(cfg, 1)
    n = len(persons)
    nets = len(cfg.networks)
    several = rng.random(n) < 0.4
    primary = rng.integers(0, nets, n)
    adoption = np.array([registered()[network].adoption for network in cfg.networks])
    adopts = _rng(cfg, 1, 1).random((n, nets)) < adoption[None, :]
    member = (np.arange(nets)[None, :] == primary[:, None]) | (several[:, None] & adopts)
    frames = []
    for k, network in enumerate(cfg.networks):
        sel = np.flatnonzero(member[:, k])
        p = persons.iloc[sel]
        m = len(sel)
        base = p._first.str.lower() + p._last.str.lower() + pd.Series(sel + 1, index=p.index).astype(str)
        account_id, handle, is_private = registered()[network].accounts(rng, sel, base, cfg.private_share)
        followers = np.maximum(0, np.round(p.audience.to_numpy() * rng.lognormal(0, 0.3, m))).astype(np.int64)
        created = pd.Timestamp("2016-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 8 * 365 * 86400, m), unit="s")
        frames.append(
            pd.DataFrame(
                {
                    "network": network,
                    "account_id": account_id.to_numpy(),
                    "handle": handle.to_numpy(),
                    "person_id": p.person_id.to_numpy(),
                    "display_name": p.display_name.to_numpy(),
                    "is_private": is_private,
                    "followers_count": followers,
                    "following_count": np.floor(rng.lognormal(4.5, 1.0, m)).astype(np.int64),
                    "created_at": created,
                    "base_statuses": rng.integers(0, 3000, m),
                    "_person_idx": sel,
                }
            )
        )
    accounts = pd.concat(frames, ignore_index=True)
    if cfg.preset == "default":
        return accounts
    # Bought followers inflate the count and nothing else; `_genuine_followers` keeps the audience
    # that reacts (dropped from the world's frame like `_person_idx`).
    bought = persons.archetype.to_numpy()[accounts._person_idx.to_numpy()] == "bought_followers"
    boost = _rng(cfg, 10, 1).uniform(10, 100, len(accounts))
    genuine = accounts.followers_count.to_numpy()
    accounts["_genuine_followers"] = genuine
    accounts["followers_count"] = np.where(bought, np.round(genuine * boost), genuine).astype(np.int64)
    return accounts


def _rings(cfg: WorldConfig, persons: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members of the engagement rings, +K rings and the honest community (adversarial preset),
    drawn among ordinary persons from a stream of their own (salt 10, 2); ids 1.. in that order."""
    if cfg.preset == "default":
        return persons, pd.DataFrame(columns=RING_COLUMNS)
    rng = _rng(cfg, 10, 2)
    n = len(persons)
    free = (persons.archetype == "ordinary").to_numpy().copy()
    acc_person, acc_net = accounts._person_idx.to_numpy(), accounts.network.to_numpy()
    adult = pd.to_datetime(persons.birth_date) <= pd.Timestamp(cfg.start_date) - pd.DateOffset(years=18)
    givers = (persons.registered & ~persons.opted_out & adult).to_numpy()
    columns = {"ring_id": np.full(n, -1), "kplus_ring_id": np.full(n, -1), "community_id": np.full(n, -1)}
    rows = []
    plan = [("engagement", size, "ring_id") for size in cfg.ring_sizes]
    plan += [("kplus", size, "kplus_ring_id") for size in cfg.kplus_ring_sizes]
    plan += [("community", cfg.community_size, "community_id")] if cfg.community_size else []
    for ring_id, (kind, size, column) in enumerate(plan, start=1):
        network = ring_network(cfg, ring_id)
        if network is None:
            can = free & givers
        else:
            can = free & np.isin(np.arange(n), acc_person[acc_net == network])
        cand = np.flatnonzero(can)
        members = np.sort(rng.choice(cand, size=min(size, len(cand)), replace=False))
        free[members] = False
        columns[column][members] = ring_id
        rows.append(
            pd.DataFrame(
                {
                    "ring_id": ring_id,
                    "kind": kind,
                    "person_id": persons.person_id.to_numpy()[members],
                    "network": network,
                }
            )
        )
    persons = persons.assign(**{c: pd.array(np.where(v > 0, v, None), dtype="Int64") for c, v in columns.items()})
    rings = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=RING_COLUMNS)
    return persons, rings.astype({"ring_id": np.int64})[RING_COLUMNS]


def ring_network(cfg: WorldConfig, ring_id: int) -> str | None:
    """Where ring `ring_id` (numbered as `_rings` does) engages: engagement rings take RING_NETWORKS
    in turn and the community the next one; +K rings live on the platform (None)."""
    engagement, kplus = len(cfg.ring_sizes), len(cfg.kplus_ring_sizes)
    if ring_id <= engagement:
        return RING_NETWORKS[(ring_id - 1) % len(RING_NETWORKS)]
    if ring_id <= engagement + kplus:
        return None
    return RING_NETWORKS[engagement % len(RING_NETWORKS)]


def like_word(network: str) -> str:
    """The network's plain approval word (favourite, like): its first reaction word that neither
    carries a post nor is served only as a count, else its first non-carrier word."""
    dialect = registered()[network]
    words = [w for w, _ in dialect.reaction_mix if w not in CARRIER_KINDS]
    named = [w for w in words if w not in dialect.anonymous]
    return (named or words or [dialect.reaction_mix[0][0]])[0]


def _alternate_private_consent(persons: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Registered owners of private accounts alternate consenting and refusing (by person order),
    so every world with two of them exercises both privacy cases."""
    private_owners = set(accounts.loc[accounts.is_private, "person_id"])
    owners = persons.index[persons.registered & persons.person_id.isin(private_owners)]
    persons = persons.copy()
    persons.loc[owners, "private_consent"] = [i % 2 == 0 for i in range(len(owners))]
    return persons


def _late_privacy_changes(cfg: WorldConfig, persons: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Part-way through history (the world's later half), a few registered adults opt out
    (`opted_out_on`) and a few owners of private accounts withdraw their consent
    (`consent_withdrawn_on`): at least one of each where anyone qualifies. Drawn last, from an
    RNG of its own, so nothing else in the world changes."""
    rng = _rng(cfg, 9)
    adult = pd.to_datetime(persons.birth_date) <= pd.Timestamp(cfg.start_date) - pd.DateOffset(years=18)
    private_owners = persons.person_id.isin(set(accounts.loc[accounts.is_private, "person_id"]))
    # +K ring members keep their consent, so the ring's gives stay in the ledger (none in default)
    measured = persons.registered & ~persons.opted_out & adult & persons.kplus_ring_id.isna()
    persons = persons.assign(opted_out_on=None, consent_withdrawn_on=None)
    for column, eligible, share in (
        ("opted_out_on", measured & ~private_owners, cfg.late_opt_out_share),
        ("consent_withdrawn_on", measured & private_owners & persons.private_consent, cfg.late_opt_out_share),
    ):
        idx = np.flatnonzero(eligible.to_numpy())
        k = min(len(idx), max(1, round(share * len(idx)))) if len(idx) else 0
        chosen = np.sort(rng.choice(idx, size=k, replace=False)) if k else np.array([], dtype=int)
        offsets = rng.integers(0, max(cfg.days // 2, 1), size=k)
        for i, back in zip(chosen, offsets):
            persons.at[persons.index[i], column] = cfg.end_date - timedelta(days=int(back))
    return persons


def _profile_links(persons: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    reg = persons.loc[persons.registered, ["person_id", "private_consent"]]
    links = accounts.merge(reg, on="person_id")
    return links[["person_id", "network", "handle", "account_id", "is_private", "private_consent"]].sort_values(
        ["person_id", "network"], ignore_index=True
    )


def _public_handles(cfg: WorldConfig, persons: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """The most-followed unregistered accounts per network: what a user lists as 'public accounts'
    (public ones of adults: nobody lists a locked account or a child's)."""
    adult = pd.to_datetime(persons.birth_date) <= pd.Timestamp(AGE_ANCHOR) - pd.DateOffset(years=18)
    unreg = set(persons.loc[~persons.registered & adult, "person_id"])
    readable = [n for n, d in registered().items() if d.public_accounts]  # not an owner-only API's
    cand = accounts[accounts.person_id.isin(unreg) & ~accounts.is_private & accounts.network.isin(readable)]
    top = (
        cand.sort_values(["network", "followers_count"], ascending=[True, False])
        .groupby("network")
        .head(cfg.public_handles_per_network)
    )
    return top[["network", "handle", "account_id"]].reset_index(drop=True)


def _follows(cfg: WorldConfig, accounts: pd.DataFrame) -> pd.DataFrame:
    """Same-network follow edges, followee chosen by audience (heavy-tailed in-degree)."""
    rng = _rng(cfg, 2)
    frames = []
    for _network, acc in accounts.groupby("network", sort=False):
        ids = acc.account_id.to_numpy()
        weight = acc.followers_count.to_numpy() + 1.0
        out = np.minimum(acc.following_count.to_numpy(), cfg.follows_cap)
        follower = np.repeat(ids, out)
        followee = ids[rng.choice(len(ids), size=len(follower), p=weight / weight.sum())]
        edges = pd.DataFrame({"follower_account_id": follower, "followee_account_id": followee})
        frames.append(edges[edges.follower_account_id != edges.followee_account_id].drop_duplicates())
    return pd.concat(frames, ignore_index=True)


def _pools(networks, accounts: pd.DataFrame):
    """(network, account rows) of each group whose accounts can meet: a network, or each community
    of a network split into them (`NetworkDialect.community`), in a fixed order."""
    net = accounts.network.to_numpy()
    for network in networks:
        pool = np.flatnonzero(net == network)
        split = registered()[network].community
        if split is None:
            yield network, pool
            continue
        labels = np.asarray(split(accounts.account_id.to_numpy()[pool]))
        for label in sorted(set(labels.tolist())):
            yield network, pool[labels == label]


class _Day:
    """Everything created on one calendar day, drawn from that day's own RNG."""

    def __init__(self, cfg, persons, person_topics, accounts, day: date):
        self.cfg, self.persons, self.person_topics, self.accounts, self.day = cfg, persons, person_topics, accounts, day
        self.rng = _rng(cfg, day.toordinal())
        self.day_ms = int((pd.Timestamp(day, tz="UTC") - _EPOCH) // pd.Timedelta(milliseconds=1))
        self.adversarial = cfg.preset == "adversarial"

    def build(self):
        posts, reactions = self._posts_and_reactions()
        return posts, reactions, self._kplus(), self._campaigns(), self._topic_edits()

    def _topics_for(self, person_idx: np.ndarray, own_share: float) -> np.ndarray:
        pt = self.person_topics[person_idx]
        count = (pt >= 0).sum(axis=1)
        own = pt[np.arange(len(pt)), (self.rng.random(len(pt)) * count).astype(int)]
        return np.where(self.rng.random(len(pt)) < own_share, own, self.rng.integers(0, len(TOPICS), len(pt)))

    def _posts_and_reactions(self):
        rng, acc = self.rng, self.accounts
        pidx = acc._person_idx.to_numpy()
        rate = self.cfg.posts_per_day * self.persons.activity.to_numpy()[pidx] * self._network_rates("posts_rate")
        author = np.repeat(np.arange(len(acc)), rng.poisson(rate))
        n = len(author)
        ms = self.day_ms + rng.integers(0, 86_400_000, n)
        topic = self._topics_for(pidx[author], 0.85)
        net = acc.network.to_numpy()

        # Mentions: 1-2 same-network accounts, chosen by audience (adversarial: by ability).
        weight = self._account_ability() + 0.01 if self.adversarial else acc.followers_count.to_numpy() + 1.0
        n_mention = np.where(rng.random(n) < self.cfg.mention_share, rng.integers(1, self.cfg.max_mentions + 1, n), 0)
        mentions = np.full((n, 2), -1)
        for _network, pool in _pools(self.cfg.networks, acc):
            w = weight[pool]
            rows = np.flatnonzero(np.isin(author, pool) & (n_mention > 0))
            pick = pool[rng.choice(len(pool), size=(len(rows), 2), p=w / w.sum())]
            pick[:, 1] = np.where(n_mention[rows] == 2, pick[:, 1], -1)
            pick[pick == author[rows, None]] = -1
            mentions[rows] = pick
        mentions[:, 1] = np.where(mentions[:, 1] == mentions[:, 0], -1, mentions[:, 1])

        reactions = self._reactions(author, ms, topic)
        carriers = reactions[reactions.type.isin(list(CARRIER_KINDS))]

        # All posts created by this day's draw (top-level + replies/quotes), local ids 0..N-1.
        all_author = np.concatenate([author, carriers.reactor.to_numpy()])
        all_ms = np.concatenate([ms, carriers.ms.to_numpy()])
        all_topic = np.concatenate([topic, topic[carriers.post.to_numpy()]])
        kind = np.concatenate(
            [np.full(n, "post", dtype=object), carriers.type.map(CARRIER_KINDS).to_numpy(dtype=object)]
        )
        parent = np.concatenate([np.full(n, -1), carriers.post.to_numpy()])
        post_id, cid = self._ids(all_author, all_ms)

        at_handles = "@" + acc.handle.to_numpy().astype(object) + " "
        mention_text = np.where(mentions[:, 0] >= 0, at_handles[mentions[:, 0]], "") + np.where(
            mentions[:, 1] >= 0, at_handles[mentions[:, 1]], ""
        )
        total = len(all_author)
        opener = np.concatenate(
            [_OPENERS[rng.integers(0, len(_OPENERS), n)], _REPLIES[rng.integers(0, len(_REPLIES), total - n)]]
        ).astype(object)
        keywords = np.array([t[3][1] for t in TOPICS], dtype=object)[all_topic]
        tags = np.array(HASHTAGS, dtype=object)[all_topic]
        closers = _CLOSERS[rng.integers(0, len(_CLOSERS), total)].astype(object)
        text = (
            np.concatenate([mention_text, np.full(total - n, "", dtype=object)])
            + opener
            + " "
            + keywords
            + " "
            + closers
            + " #"
            + tags
        )

        acc_ids = acc.account_id.to_numpy()
        mention_lists = [[acc_ids[m] for m in row if m >= 0] for row in mentions] + [[]] * (total - n)
        parent_ids = np.where(parent >= 0, post_id[np.maximum(parent, 0)], None)
        posts = pd.DataFrame(
            {
                "network": net[all_author],
                "post_id": post_id,
                "account_id": acc_ids[all_author],
                "created_at": pd.to_datetime(all_ms, unit="ms", utc=True),
                "text": text,
                "topic_slug": np.array(TOPIC_SLUGS, dtype=object)[all_topic],
                "kind": kind,
                "reply_to_post_id": np.where(kind == "reply", parent_ids, None),
                "quote_of_post_id": np.where(kind == "quote", parent_ids, None),
                "mentions": mention_lists,
                "cid": np.where(np.isin(net[all_author], content_id_networks()), cid, None),
            }
        )

        carrier_local = np.full(len(reactions), -1)
        carrier_local[np.flatnonzero(reactions.type.isin(list(CARRIER_KINDS)))] = np.arange(n, total)
        m_post, m_slot = np.nonzero(mentions >= 0)
        reaction_frame = pd.DataFrame(
            {
                "network": np.concatenate([net[reactions.reactor.to_numpy()], net[author[m_post]]]),
                "post_id": np.concatenate([post_id[reactions.post.to_numpy()], post_id[m_post]]),
                "target_account_id": np.concatenate(
                    [acc_ids[author[reactions.post.to_numpy()]], acc_ids[mentions[m_post, m_slot]]]
                ),
                "reactor_account_id": np.concatenate([acc_ids[reactions.reactor.to_numpy()], acc_ids[author[m_post]]]),
                "reaction_type": np.concatenate(
                    [reactions.type.to_numpy(dtype=object), np.full(len(m_post), "mention", dtype=object)]
                ),
                "created_at": pd.to_datetime(
                    np.concatenate([reactions.ms.to_numpy(), ms[m_post]]), unit="ms", utc=True
                ),
                "carrier_post_id": np.concatenate(
                    [np.where(carrier_local >= 0, post_id[np.maximum(carrier_local, 0)], None), post_id[m_post]]
                ),
            }
        )
        if self.adversarial:  # appended after the day's ordinary draws, from streams of their own
            dtypes = posts.dtypes.to_dict(), reaction_frame.dtypes.to_dict()
            posts, reaction_frame = self._engagement_rings(posts, reaction_frame)
            reaction_frame = self._community(posts, reaction_frame)
            key = ["network", "post_id", "reactor_account_id", "reaction_type"]
            reaction_frame = reaction_frame.drop_duplicates(key, ignore_index=True)
            posts, reaction_frame = posts.astype(dtypes[0]), reaction_frame.astype(dtypes[1])
        return posts, reaction_frame

    def _account_ability(self) -> np.ndarray:
        return self.persons.ability.to_numpy()[self.accounts._person_idx.to_numpy()]

    def _members(self, column: str) -> dict[int, np.ndarray]:
        """Account rows of each ring (or community) in `column`, on the ring's network."""
        acc = self.accounts
        ring = self.persons[column].to_numpy(dtype=float, na_value=np.nan)[acc._person_idx.to_numpy()]
        net = acc.network.to_numpy()
        ids = sorted({int(r) for r in ring[~np.isnan(ring)]})
        return {r: np.flatnonzero((ring == r) & (net == ring_network(self.cfg, r))) for r in ids}

    def _engagement_rings(self, posts: pd.DataFrame, reactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Each ring member posts once more today, and every other member (and every bot of the
        network, 90% of the time) likes it within minutes (stream (day, 11))."""
        rings = self._members("ring_id")
        if not rings:
            return posts, reactions
        rng = _rng(self.cfg, self.day.toordinal(), 11)
        acc = self.accounts
        author = np.concatenate(list(rings.values()))
        ring_of = np.concatenate([np.full(len(m), r) for r, m in rings.items()])
        n = len(author)
        ms = self.day_ms + rng.integers(0, 86_400_000 - 1_800_000, n)
        pt = self.person_topics[acc._person_idx.to_numpy()[author]]
        topic = pt[np.arange(n), (rng.random(n) * (pt >= 0).sum(axis=1)).astype(int)]
        post_id, cid = self._ids(author, ms, rng=rng, rank_from=len(posts))
        net, acc_ids = acc.network.to_numpy()[author], acc.account_id.to_numpy()
        text = (
            _OPENERS[rng.integers(0, len(_OPENERS), n)].astype(object)
            + " "
            + np.array([t[3][1] for t in TOPICS], dtype=object)[topic]
            + " "
            + _CLOSERS[rng.integers(0, len(_CLOSERS), n)].astype(object)
            + " #"
            + np.array(HASHTAGS, dtype=object)[topic]
        )
        ring_posts = pd.DataFrame(
            {
                "network": net,
                "post_id": post_id,
                "account_id": acc_ids[author],
                "created_at": pd.to_datetime(ms, unit="ms", utc=True),
                "text": text,
                "topic_slug": np.array(TOPIC_SLUGS, dtype=object)[topic],
                "kind": "post",
                "reply_to_post_id": None,
                "quote_of_post_id": None,
                "mentions": [[] for _ in range(n)],
                "cid": np.where(np.isin(net, content_id_networks()), cid, None),
            }
        )
        post, reactor = [], []
        for ring_id, members in rings.items():
            mine = np.flatnonzero(ring_of == ring_id)
            post.append(np.repeat(mine, len(members)))
            reactor.append(np.tile(members, len(mine)))
        post, reactor = np.concatenate(post), np.concatenate(reactor)
        keep = reactor != author[post]
        post, reactor = post[keep], reactor[keep]
        # the network's bots like these too, as they like every post (see `_bots`)
        bot = self.persons.archetype.to_numpy()[acc._person_idx.to_numpy()] == "bot"
        bots = np.flatnonzero(bot & np.isin(acc.network.to_numpy(), RING_NETWORKS))
        same = net[:, None] == acc.network.to_numpy()[bots][None, :]
        liked_by = same & (rng.random(same.shape) < 0.9)
        by_post, by_bot = np.nonzero(liked_by)
        post, reactor = np.concatenate([post, by_post]), np.concatenate([reactor, bots[by_bot]])
        likes = pd.DataFrame(
            {
                "network": net[post],
                "post_id": post_id[post],
                "target_account_id": acc_ids[author[post]],
                "reactor_account_id": acc_ids[reactor],
                "reaction_type": [like_word(x) for x in net[post]],
                "created_at": pd.to_datetime(ms[post] + rng.integers(30_000, 900_000, len(post)), unit="ms", utc=True),
                "carrier_post_id": None,
            }
        )
        return pd.concat([posts, ring_posts], ignore_index=True), pd.concat([reactions, likes], ignore_index=True)

    def _community(self, posts: pd.DataFrame, reactions: pd.DataFrame) -> pd.DataFrame:
        """The honest community (stream (day, 14)): each member reacts to half of the other members'
        posts of the day, and as often again to posts outside it, in the network's own words."""
        communities = self._members("community_id")
        if not communities:
            return reactions
        rng = _rng(self.cfg, self.day.toordinal(), 14)
        acc_ids = self.accounts.account_id.to_numpy()
        frames = []
        for ring_id, members in communities.items():
            network = ring_network(self.cfg, ring_id)
            dialect = registered()[network]
            words = [(w, p) for w, p in dialect.reaction_mix if w not in CARRIER_KINDS]
            probs = np.array([p for _, p in words]) / sum(p for _, p in words)
            top = posts[(posts.network == network) & (posts.kind == "post")]
            inside = top.account_id.isin(set(acc_ids[members])).to_numpy()
            for member in members:
                me = acc_ids[member]
                ins = top[inside & (top.account_id != me).to_numpy()]
                ins = ins[rng.random(len(ins)) < 0.5]
                out_pool = top[~inside]
                k = min(len(ins), len(out_pool))
                outs = out_pool.iloc[np.sort(rng.choice(len(out_pool), size=k, replace=False))] if k else out_pool[:0]
                chosen = pd.concat([ins, outs])
                delay = np.minimum(rng.exponential(2 * 3_600_000, len(chosen)), 4 * 86_400_000).astype(np.int64)
                frames.append(
                    pd.DataFrame(
                        {
                            "network": network,
                            "post_id": chosen.post_id.to_numpy(),
                            "target_account_id": chosen.account_id.to_numpy(),
                            "reactor_account_id": me,
                            "reaction_type": np.array([w for w, _ in words], dtype=object)[
                                rng.choice(len(words), size=len(chosen), p=probs)
                            ],
                            "created_at": chosen.created_at + pd.to_timedelta(delay, unit="ms"),
                            "carrier_post_id": None,
                        }
                    )
                )
        return pd.concat([reactions, *frames], ignore_index=True)

    def _reactions(self, author: np.ndarray, ms: np.ndarray, topic: np.ndarray) -> pd.DataFrame:
        """Candidate reactors drawn by reactivity, kept more often on topic overlap (vectorised)."""
        rng, acc = self.rng, self.accounts
        pidx = acc._person_idx.to_numpy()
        reactivity = self.persons.reactivity.to_numpy()[pidx]
        audience = acc.followers_count.to_numpy().astype(float)
        median = max(np.median(audience), 1.0)
        if self.adversarial:
            multiplier = self._ability_multiplier()
        else:
            multiplier = (audience / median + 0.1) ** 0.6
        frames = []
        for network, pool in _pools(self.cfg.networks, acc):
            posts = np.flatnonzero(np.isin(author, pool))
            lam = self.cfg.reactions_per_post * registered()[network].reactions_rate
            lam = lam * multiplier[author[posts]]
            lam = np.minimum(lam, 0.5 * len(pool))
            post = np.repeat(posts, rng.poisson(lam))
            w = reactivity[pool]
            reactor = pool[rng.choice(len(pool), size=len(post), p=w / w.sum())]
            on_topic = (self.person_topics[pidx[reactor]] == topic[post, None]).any(axis=1)
            keep = (rng.random(len(post)) < np.where(on_topic, 1.0, 0.3)) & (reactor != author[post])
            post, reactor = post[keep], reactor[keep]
            names = [t[0] for t in registered()[network].reaction_mix]
            probs = np.array([t[1] for t in registered()[network].reaction_mix])
            rtype = np.array(names, dtype=object)[rng.choice(len(names), size=len(post), p=probs / probs.sum())]
            delay = np.minimum(
                rng.exponential(8 * 3_600_000, len(post)).astype(np.int64),
                int(MAX_REACTION_DELAY / timedelta(milliseconds=1)),
            )
            frames.append(pd.DataFrame({"post": post, "reactor": reactor, "type": rtype, "ms": ms[post] + delay}))
        if self.adversarial:
            frames.append(self._bots(author, ms))
        out = pd.concat(frames, ignore_index=True)
        return out.drop_duplicates(["post", "reactor", "type"], ignore_index=True)

    def _ability_multiplier(self) -> np.ndarray:
        """Adversarial: an author's ability, and only weakly the genuine audience, sets a post's expected
        reactions, scaled so a post draws as many reactions on average as in the default preset."""
        genuine = self.accounts._genuine_followers.to_numpy().astype(float)
        activity = self.persons.activity.to_numpy()[self.accounts._person_idx.to_numpy()]
        raw = self._account_ability() * reach_multiplier(genuine, 0.2)
        return raw * (activity * reach_multiplier(genuine)).sum() / max((activity * raw).sum(), 1e-12)

    def _bots(self, author: np.ndarray, ms: np.ndarray) -> pd.DataFrame:
        """Each bot likes ~90% of its pool's posts of the day within minutes (stream (day, 12))."""
        rng = _rng(self.cfg, self.day.toordinal(), 12)
        acc = self.accounts
        bot = self.persons.archetype.to_numpy()[acc._person_idx.to_numpy()] == "bot"
        frames = []
        for network, pool in _pools(self.cfg.networks, acc):
            bots = pool[bot[pool]]
            posts = np.flatnonzero(np.isin(author, pool))
            post, reactor = np.repeat(posts, len(bots)), np.tile(bots, len(posts))
            keep = (rng.random(len(post)) < 0.9) & (reactor != author[post])
            post, reactor = post[keep], reactor[keep]
            delay = rng.integers(10_000, 600_000, len(post))
            word = np.full(len(post), like_word(network), dtype=object)
            frames.append(pd.DataFrame({"post": post, "reactor": reactor, "type": word, "ms": ms[post] + delay}))
        return pd.concat(frames, ignore_index=True)

    def _network_rates(self, rate: str) -> np.ndarray:
        """Each account's network's `rate` (a dialect's posts_rate or reactions_rate)."""
        rates = {name: getattr(dialect, rate) for name, dialect in registered().items()}
        return self.accounts.network.map(rates).to_numpy(dtype=float)

    def _ids(self, author: np.ndarray, ms: np.ndarray, rng=None, rank_from: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Native post ids unique across days, each network's own kind (its dialect's `post_ids`), and content ids.

        Within a day, posts are ranked by time so equal milliseconds get distinct sequence bits;
        the day ordinal mod 8 separates draws of nearby days (reactions land <= 5 days later).
        Posts appended to the day's draw rank from `rank_from` and draw their cids from `rng`.
        """
        n = len(ms)
        order = np.argsort(ms, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) + rank_from
        day_bits = self.day.toordinal() % 8
        authors = self.accounts.account_id.to_numpy()[author].astype(object)
        networks = self.accounts.network.to_numpy()[author]
        post_id = np.empty(n, dtype=object)
        for name, dialect in registered().items():
            mine = networks == name
            post_id[mine] = dialect.post_ids(ms[mine], rank[mine], day_bits, authors[mine])
        cid = "bafyrei" + random_strings(self.rng if rng is None else rng, n, 52).astype(object)
        return post_id, cid

    def _kplus(self) -> pd.DataFrame:
        """+K gives of the day, with deliberate rule-breakers (self, burst, repeats, off-profile topics)."""
        rng, persons = self.rng, self.persons
        eligible = np.flatnonzero(persons.registered.to_numpy() & ~persons.opted_out.to_numpy())
        if len(eligible) == 0:
            return _empty_kplus()
        counts = rng.poisson(self.cfg.kplus_per_day, len(eligible))
        burst = rng.random(len(eligible)) < 0.01  # > 10 gives a day
        counts = np.where(burst, rng.integers(11, 15, len(eligible)), counts)
        giver = np.repeat(eligible, counts)
        w = persons.audience.to_numpy()[eligible] + 1.0
        recipient = eligible[rng.choice(len(eligible), size=len(giver), p=w / w.sum())]
        self_give = rng.random(len(giver)) < 0.03
        recipient = np.where(self_give, giver, recipient)
        topic = self._topics_for(recipient, 0.9)
        given_ms = self.day_ms + np.sort(rng.integers(0, 86_400_000, len(giver)))
        repeat = np.flatnonzero(rng.random(len(giver)) < 0.05)
        giver = np.concatenate([giver, giver[repeat]])
        recipient = np.concatenate([recipient, recipient[repeat]])
        topic = np.concatenate([topic, topic[repeat]])
        given_ms = np.concatenate([given_ms, np.minimum(given_ms[repeat] + 60_000, self.day_ms + 86_399_999)])
        pid = persons.person_id.to_numpy()
        stamp = self.day.strftime("%Y%m%d")
        gives = pd.DataFrame(
            {
                "give_id": [f"k{stamp}{i:06d}" for i in range(len(giver))],
                "giver_person_id": pid[giver],
                "recipient_person_id": pid[recipient],
                "topic_slug": np.array(TOPIC_SLUGS, dtype=object)[topic],
                "given_at": pd.to_datetime(given_ms, unit="ms", utc=True),
            }
        )
        return self._kplus_rings(gives) if self.adversarial else gives

    def _kplus_rings(self, gives: pd.DataFrame) -> pd.DataFrame:
        """+K rings give each other +K daily within the product rules, so the ledger accepts them
        (stream (day, 13)): in the day's first minute (before the allowance is spent), a recipient
        rotation that repeats a giver->recipient pair only after >= 8 days (cooldown 7), on one of
        the recipient's own topics (no member removes one). A ring's ordinary gives inside it are
        dropped so they start no cooldown. Ids continue after the day's ordinary ones."""
        ring = self.persons.kplus_ring_id.to_numpy(dtype=float, na_value=np.nan)
        ring_ids = sorted({int(r) for r in ring[~np.isnan(ring)]})
        if not ring_ids:
            return gives
        rng = _rng(self.cfg, self.day.toordinal(), 13)
        pid = self.persons.person_id.to_numpy()
        of = dict(zip(pid, ring))
        inside = gives.giver_person_id.map(of).to_numpy(dtype=float)
        inside = inside == gives.recipient_person_id.map(of).to_numpy(dtype=float)  # NaN never equals
        giver, recipient = [], []
        for ring_id in ring_ids:
            members = np.flatnonzero(ring == ring_id)
            m = len(members) - 1
            if m < 1:
                continue
            per_day = max(1, m // 8)
            offsets = 1 + (self.day.toordinal() * per_day + np.arange(per_day)) % m
            giver.append(np.repeat(members, per_day))
            recipient.append(members[(np.repeat(np.arange(m + 1), per_day) + np.tile(offsets, m + 1)) % (m + 1)])
        giver, recipient = np.concatenate(giver), np.concatenate(recipient)
        pt = self.person_topics[recipient]
        topic = pt[np.arange(len(pt)), (rng.random(len(pt)) * (pt >= 0).sum(axis=1)).astype(int)]
        stamp, first = self.day.strftime("%Y%m%d"), len(gives)
        ring_gives = pd.DataFrame(
            {
                "give_id": [f"k{stamp}{first + i:06d}" for i in range(len(giver))],
                "giver_person_id": pid[giver],
                "recipient_person_id": pid[recipient],
                "topic_slug": np.array(TOPIC_SLUGS, dtype=object)[topic],
                "given_at": pd.to_datetime(self.day_ms + rng.integers(0, 60_000, len(giver)), unit="ms", utc=True),
            }
        )
        # a day without ordinary gives has an empty frame of float columns: take the ring's types then
        dtypes = (gives if len(gives) else ring_gives).dtypes.to_dict()
        return pd.concat([gives[~inside], ring_gives], ignore_index=True).astype(dtypes)

    def _topic_edits(self) -> pd.DataFrame:
        """Profile topic edits of the day: owners add or remove their own topics, friends add
        topics, and a few friends try to remove someone else's (which must be ignored)."""
        rng = _rng(self.cfg, self.day.toordinal(), 7)  # its own stream: other content is unchanged
        persons = self.persons
        eligible = np.flatnonzero(persons.registered.to_numpy() & ~persons.opted_out.to_numpy())
        n = int(rng.poisson(max(1.0, len(eligible) * 0.02))) if len(eligible) else 0
        owner = eligible[rng.integers(0, len(eligible), n)] if n else np.array([], dtype=int)
        by_friend = rng.random(n) < 0.4
        editor = np.where(by_friend, eligible[rng.integers(0, len(eligible), n)] if n else owner, owner)
        action = np.where(rng.random(n) < 0.35, "remove", "add")
        topics = np.array(TOPIC_SLUGS, dtype=object)[rng.integers(0, len(TOPICS), n)]
        pid = persons.person_id.to_numpy()
        stamp = self.day.strftime("%Y%m%d")
        edits = pd.DataFrame(
            {
                "edit_id": [f"e{stamp}{i:05d}" for i in range(n)],
                "person_id": pid[owner],
                "editor_person_id": pid[editor],
                "topic_slug": topics,
                "action": action,
                "edited_at": pd.to_datetime(self.day_ms + np.sort(rng.integers(0, 86_400_000, n)), unit="ms", utc=True),
            }
        )
        if not self.adversarial:
            return edits
        # +K ring members keep their topics, so the ring's gives stay on the recipient's profile
        ringed = set(pid[persons.kplus_ring_id.notna().to_numpy()])
        own_removal = (edits.action == "remove") & (edits.person_id == edits.editor_person_id)
        return edits[~(own_removal & edits.person_id.isin(ringed))].reset_index(drop=True)

    def _campaigns(self) -> pd.DataFrame:
        """Perk campaigns start on Mondays (0-2 of them) so they too depend only on their day."""
        rng = self.rng
        n = int(rng.integers(1, 3)) if self.day.weekday() == 0 else 0
        stamp = self.day.strftime("%Y%m%d")
        rows = []
        for j in range(n):
            topics = list(np.array(TOPIC_SLUGS)[rng.choice(len(TOPICS), size=int(rng.integers(1, 4)), replace=False)])
            locs = list(LOCATIONS[rng.choice(len(LOCATIONS), size=int(rng.integers(1, 4)), replace=False)])
            brand = str(_BRANDS[rng.integers(0, len(_BRANDS))])
            rows.append(
                {
                    "campaign_id": f"c{stamp}{j}",
                    "brand": brand,
                    "title": f"{brand} perk for {topics[0]} fans",
                    "topics": topics,
                    "min_score": int(rng.integers(20, 70)),
                    "locations": locs,
                    "starts_on": self.day,
                    "ends_on": self.day + timedelta(days=int(rng.integers(7, 29))),
                    "capacity": int(rng.integers(10, 500)),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "campaign_id",
                "brand",
                "title",
                "topics",
                "min_score",
                "locations",
                "starts_on",
                "ends_on",
                "capacity",
            ],
        )


def _empty_kplus() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "give_id": [],
            "giver_person_id": [],
            "recipient_person_id": [],
            "topic_slug": [],
            "given_at": pd.to_datetime([], utc=True),
        }
    )
