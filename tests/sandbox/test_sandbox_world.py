"""The synthetic world: determinism, day-stability and the population mix the pipeline must handle."""

import hashlib
from dataclasses import fields, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from domain.kplus import kplus_ledger
from sandbox.world import ARCHETYPES, RING_NETWORKS, TRUTH_COLUMNS, WorldConfig, build_world, end_of_day

# sha256 of the default world below (frames minus the truth columns), recorded at cf8576a, before
# presets existed: the default preset must stay that world bit for bit.
DEFAULT_WORLD_DIGEST = "3294f242b855d30a9e12ecdf4c922300a5708c3cf6034238c48e1e944ce7b769"


def test_same_config_same_world(config, world):
    again = build_world(config)
    for name in ("persons", "accounts", "posts", "reactions", "kplus_gives", "perk_campaigns", "follows"):
        pd.testing.assert_frame_equal(getattr(world, name), getattr(again, name))


def test_shifting_end_date_keeps_overlapping_days(config, world):
    shifted = build_world(replace(config, end_date=config.end_date + timedelta(days=1)))
    overlap_start, overlap_end = shifted.config.start_date, config.end_date

    def days(frame, col):
        day = frame[col].dt.date
        return frame[(day >= overlap_start) & (day <= overlap_end)].reset_index(drop=True)

    def drawn_on_overlap(w):
        """Posts drawn by overlap days: top-level posts there plus replies/quotes to them."""
        top = days(w.posts[w.posts.kind == "post"], "created_at")
        parent = w.posts.reply_to_post_id.fillna(w.posts.quote_of_post_id)
        return w.posts[w.posts.post_id.isin(top.post_id) | parent.isin(top.post_id)].reset_index(drop=True)

    pd.testing.assert_frame_equal(drawn_on_overlap(world), drawn_on_overlap(shifted))
    top_ids = days(world.posts[world.posts.kind == "post"], "created_at").post_id
    key = ["network", "post_id", "reactor_account_id", "reaction_type"]
    # reactions made by the end of the overlap: a later one may depend on days only the longer world
    # has (a Wikipedia thank goes to the thanked editor's latest edit before it)
    horizon = end_of_day(overlap_end)
    a = world.reactions[world.reactions.post_id.isin(top_ids) & (world.reactions.created_at <= horizon)]
    b = shifted.reactions[shifted.reactions.post_id.isin(top_ids) & (shifted.reactions.created_at <= horizon)]
    pd.testing.assert_frame_equal(
        a.drop(columns="seq").sort_values(key, ignore_index=True),
        b.drop(columns="seq").sort_values(key, ignore_index=True),
    )
    pd.testing.assert_frame_equal(days(world.kplus_gives, "given_at"), days(shifted.kplus_gives, "given_at"))
    late = ["opted_out_on", "consent_withdrawn_on"]  # part-way changes fall in the world's later half, wherever it ends
    pd.testing.assert_frame_equal(world.persons.drop(columns=late), shifted.persons.drop(columns=late))


@pytest.fixture(scope="module")
def default_world():
    return build_world(WorldConfig(end_date=date(2026, 1, 31)))


def _digest(world) -> str:
    h = hashlib.sha256()
    for f in fields(world):
        frame = getattr(world, f.name)
        if isinstance(frame, pd.DataFrame) and f.name != "rings":
            h.update(f.name.encode())
            h.update(frame.drop(columns=[c for c in TRUTH_COLUMNS if c in frame.columns]).to_csv(index=False).encode())
    return h.hexdigest()


def test_the_default_world_has_its_size(default_world):
    """Its speed is the bench's business, not a timed unit test's."""
    assert len(default_world.persons) == 200 and len(default_world.posts) > 1000


def test_the_default_preset_is_the_world_before_presets(default_world):
    """Truth columns are additive and drawn from a stream of their own: no served frame moves."""
    assert _digest(default_world) == DEFAULT_WORLD_DIGEST
    p = default_world.persons
    assert (p.archetype == "ordinary").all() and default_world.rings.empty
    assert p[["ring_id", "kplus_ring_id", "community_id"]].isna().all().all()
    # ability is what drives the default draws: a monotone function of audience
    assert p[["audience", "ability"]].corr(method="spearman").iloc[0, 1] == pytest.approx(1.0)
    assert p.ability.mean() == pytest.approx(1.0)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="preset"):
        WorldConfig(preset="hostile")


def test_population_mix(world):
    p = world.persons
    minors = p.birth_date.map(lambda d: (world.config.end_date - d).days < 18 * 365.25)
    assert 0.02 < minors.mean() < 0.2
    assert 0.55 < p.registered.mean() < 0.85
    assert p.opted_out.any() and not (p.opted_out & ~p.registered).any()
    assert p.topics.map(len).between(1, 3).all()
    nets = world.accounts.groupby("person_id").network.nunique()
    assert (nets >= 2).any() and (nets == 1).any()
    # private accounts are a few percent of the networks that have them: a larger world has both
    # consents (seven networks spread a 120-person world's accounts thin)
    larger = build_world(WorldConfig(seed=11, persons=400, end_date=world.config.end_date, days=2))
    private = larger.profile_links[larger.profile_links.is_private]
    assert private.private_consent.any() and (~private.private_consent).any()
    per_network = world.public_handles.groupby("network").size()  # up to 5 of each network's unregistered adults
    assert set(per_network.index) <= set(world.config.networks) and per_network.max() == 5 and per_network.min() >= 1
    assert not world.public_handles.account_id.isin(world.profile_links.account_id).any()


def test_heavy_tails(world):
    audience = world.accounts.followers_count
    assert audience.max() > 20 * audience.median()
    per_post = world.reactions.groupby("post_id").size()
    assert per_post.max() > 4 * per_post.median()
    per_reactor = world.reactions.groupby("reactor_account_id").size()
    assert per_reactor.max() > 10 * per_reactor.median()
    in_degree = world.follows.groupby("followee_account_id").size()
    assert in_degree.max() > 4 * in_degree.median()


def test_reactions_follow_the_contract(world):
    r, posts = world.reactions, world.posts.set_index("post_id")
    assert not r.duplicated(["network", "post_id", "reactor_account_id", "reaction_type"]).any()
    assert set(r[r.network == "mastodon"].reaction_type) == {"favourite", "reblog", "reply", "mention"}
    assert set(r[r.network == "bluesky"].reaction_type) == {"like", "repost", "reply", "quote", "mention"}
    non_mention = r[r.reaction_type != "mention"]
    target = posts.loc[non_mention.post_id]
    # a Wikipedia thank is for any edit (the thanked editor's latest before it); all else is on posts
    thank = (non_mention.network == "wikipedia").to_numpy() & (non_mention.reaction_type == "thank").to_numpy()
    assert (target.kind[~thank] == "post").all()
    assert (target.network.to_numpy() == non_mention.network.to_numpy()).all()
    delay = non_mention.created_at.to_numpy() - target.created_at.to_numpy()
    assert (delay >= pd.Timedelta(0)).all() and (delay < pd.Timedelta(days=5)).all()
    carriers = r[r.reaction_type.isin(["reply", "quote"])]
    carried = posts.loc[carriers.carrier_post_id]
    assert (carried.account_id.to_numpy() == carriers.reactor_account_id.to_numpy()).all()
    assert (carried.created_at.to_numpy() == carriers.created_at.to_numpy()).all()
    assert world.posts.post_id.is_unique
    tagged = world.posts.apply(
        lambda p: f"#{world.topics.set_index('slug').keywords[p.topic_slug][0]}" in p.text, axis=1
    )
    assert tagged.all()


def test_kplus_rule_breakers_present(world):
    g = world.kplus_gives.assign(day=world.kplus_gives.given_at.dt.date)
    assert (g.giver_person_id == g.recipient_person_id).any()
    assert (g.groupby(["giver_person_id", "day"]).size() > 10).any()
    assert g.duplicated(["giver_person_id", "recipient_person_id", "topic_slug"]).any()
    topics = world.persons.set_index("person_id").topics
    off_profile = g.apply(lambda x: x.topic_slug not in topics[x.recipient_person_id], axis=1)
    assert off_profile.any()
    assert len(world.perk_campaigns) > 0


def test_ground_truth_rules(world):
    tracked = world.tracked_account_ids("bluesky")
    end = world.config.end_date
    start = end - timedelta(days=3)
    gt = world.ground_truth("bluesky", start, end, tracked)
    assert gt.posts.account_id.isin(tracked).all()
    assert gt.posts.partition_day.between(start, end).all()
    assert gt.reactions.partition_day.between(start, end).all()
    assert not gt.reactions.duplicated(["post_id", "reactor_account_id", "reaction_type"]).any()
    # A one-day-later ingest lands every reaction visible by then exactly once across both ranges.
    whole = world.ground_truth("bluesky", start, end, tracked)
    split = pd.concat(
        [
            world.ground_truth("bluesky", start, start, tracked).reactions,
            world.ground_truth("bluesky", start + timedelta(days=1), end, tracked).reactions,
        ]
    )
    assert len(split) >= len(whole.reactions)


@pytest.fixture(scope="module")
def adversarial():
    return build_world(WorldConfig(seed=7, persons=300, days=20, end_date=date(2026, 3, 31), preset="adversarial"))


def _with_persons(reactions: pd.DataFrame, world) -> pd.DataFrame:
    """Reactions (mentions aside) with reactor and author persons and the post's day."""
    owner = world.accounts.set_index(["network", "account_id"]).person_id
    r = reactions[reactions.reaction_type != "mention"]
    posts = world.posts.set_index("post_id")
    return r.assign(
        reactor=owner.reindex(pd.MultiIndex.from_frame(r[["network", "reactor_account_id"]])).to_numpy(),
        author=owner.reindex(pd.MultiIndex.from_frame(r[["network", "target_account_id"]])).to_numpy(),
        post_day=posts.created_at.reindex(r.post_id).dt.date.to_numpy(),
        delay=(r.created_at.to_numpy() - posts.created_at.reindex(r.post_id).to_numpy()),
    )


def test_adversarial_world_has_its_archetypes_and_rings(adversarial):
    p, rings = adversarial.persons, adversarial.rings
    assert set(p.archetype) == set(ARCHETYPES)
    assert set(rings.kind) == {"engagement", "kplus", "community"}
    sizes = rings.groupby("ring_id").size()
    assert sizes.between(10, 50).all()
    assert set(rings[rings.kind == "engagement"].network) == set(RING_NETWORKS)
    assert (
        p.loc[p.ring_id.notna() | p.community_id.notna() | p.kplus_ring_id.notna(), "archetype"] == "ordinary"
    ).all()
    # follower counts are a poor proxy of ability here (the premise)
    followers = adversarial.accounts.groupby("person_id").followers_count.sum()
    ability = p.set_index("person_id").ability
    assert pd.concat([followers, ability], axis=1).corr(method="spearman").iloc[0, 1] <= 0.5


def test_engagement_ring_members_like_each_other_daily_within_minutes(adversarial):
    r = _with_persons(adversarial.reactions, adversarial)
    for ring_id, members in adversarial.rings[adversarial.rings.kind == "engagement"].groupby("ring_id"):
        ids = set(members.person_id)
        inside = r[r.reactor.isin(ids) & r.author.isin(ids) & (r.network == members.network.iloc[0])]
        pairs = inside.groupby("post_day").apply(lambda d: len(set(zip(d.reactor, d.author))), include_groups=False)
        full = len(ids) * (len(ids) - 1)
        assert len(pairs) == adversarial.config.days and (pairs >= 0.95 * full).mean() >= 0.9, ring_id
        assert (inside.delay < pd.Timedelta(minutes=15)).mean() > 0.9


def test_bots_react_to_nearly_every_post_of_their_network(adversarial):
    bots = set(adversarial.persons.loc[adversarial.persons.archetype == "bot", "person_id"])
    acc = adversarial.accounts
    bot_accounts = acc[acc.person_id.isin(bots) & acc.network.isin(RING_NETWORKS)]
    assert len(bot_accounts)
    top = adversarial.posts[adversarial.posts.kind == "post"]
    for bot in bot_accounts.itertuples():
        theirs = top[(top.network == bot.network) & (top.account_id != bot.account_id)]
        liked = adversarial.reactions[
            (adversarial.reactions.network == bot.network)
            & (adversarial.reactions.reactor_account_id == bot.account_id)
        ]
        assert theirs.post_id.isin(set(liked.post_id)).mean() >= 0.8


def test_bought_followers_buy_no_reactions(adversarial):
    p = adversarial.persons.set_index("person_id")
    plain = p.index[(p.archetype == "ordinary") & p.ring_id.isna() & p.community_id.isna()]
    bought = p.index[p.archetype == "bought_followers"]
    acc = adversarial.accounts
    assert (
        acc[acc.person_id.isin(bought)].followers_count.median()
        > 10 * acc[acc.person_id.isin(plain)].followers_count.median()
    )
    r = _with_persons(adversarial.reactions, adversarial)
    top = adversarial.posts[adversarial.posts.kind == "post"]
    owner = acc.set_index(["network", "account_id"]).person_id
    author = owner.reindex(pd.MultiIndex.from_frame(top[["network", "account_id"]])).to_numpy()
    per_post = r.groupby("post_id").size().reindex(top.post_id, fill_value=0).to_numpy()
    assert per_post[np.isin(author, bought)].mean() <= 1.25 * per_post[np.isin(author, plain)].mean()


def test_the_honest_community_reacts_outside_too(adversarial):
    members = adversarial.rings[adversarial.rings.kind == "community"]
    ids, network = set(members.person_id), members.network.iloc[0]
    r = _with_persons(adversarial.reactions, adversarial)
    theirs = r[r.reactor.isin(ids) & (r.network == network)]
    outside = (~theirs.author.isin(ids)).groupby(theirs.reactor).mean()
    assert len(outside) == len(ids) and (outside >= 0.4).all()
    # and densely inside: several times what their share of the network's authors would give
    authors = adversarial.posts[adversarial.posts.network == network].account_id.nunique()
    assert (1 - outside).mean() > 2.5 * len(ids) / authors


def test_kplus_ring_gives_pass_the_product_rules(adversarial):
    gives = adversarial.kplus_gives
    ring = adversarial.persons.set_index("person_id").kplus_ring_id.astype(float)  # NaN: in none
    in_ring = (gives.giver_person_id.map(ring) == gives.recipient_person_id.map(ring)).to_numpy(dtype=bool)
    assert in_ring.any()
    profile = adversarial.persons[["person_id", "topics"]].explode("topics").rename(columns={"topics": "topic_slug"})
    accepted, rejected = kplus_ledger(gives, profile)
    ring_ids = set(gives.give_id[in_ring])
    assert ring_ids <= set(accepted.give_id) and not rejected.give_id.isin(ring_ids).any()
    days = gives[in_ring].groupby("giver_person_id").given_at.apply(lambda t: t.dt.date.nunique())
    assert len(days) == ring.notna().sum() and (days == adversarial.config.days).all()
