"""The synthetic world: determinism, day-stability and the population mix the pipeline must handle."""

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from sandbox.world import WorldConfig, build_world, end_of_day


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


def test_the_default_world_has_its_size():
    """Its speed is the bench's business, not a timed unit test's."""
    world = build_world(WorldConfig(end_date=date(2026, 1, 31)))
    assert len(world.persons) == 200 and len(world.posts) > 1000


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
