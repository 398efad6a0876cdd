"""The bench world's presets: the default world's rows pinned, the adversarial one mirroring the sandbox's."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from sandbox import world as w
from tests.bench.worldgen import NETWORKS, RINGS_FILE, TRUTH_FILE, BenchWorld, write_world

END = date(2026, 3, 31)
# Every non-empty raw table of the default 300-person, 5-day world: (rows, order-free sum of each row's
# md5 less fetched_at), as the generator before the presets wrote it (s27). A DuckDB upgrade that
# changes how rows print to text would need them re-pinned from that generator, not from this one.
DEFAULT_300x5 = {
    "bluesky_accounts": (680, "6037375235353867110870"),
    "bluesky_posts": (440, "3945293730097173104215"),
    "bluesky_reactions": (668, "6147122006863891793810"),
    "mastodon_accounts": (650, "6022215919034795147311"),
    "mastodon_posts": (311, "2820105370061306470335"),
    "mastodon_reactions": (567, "5269789838871121689560"),
    "platform_campaigns": (2, "10016301965426555832"),
    "platform_kplus": (321, "3022309853904961384963"),
    "platform_links": (600, "5500246692807078368656"),
    "platform_profiles": (219, "1988267088029178572357"),
    "platform_topic_edits": (36, "281341393875582040556"),
}


def _digests(path) -> dict:
    out = {}
    with duckdb.connect(str(path), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall()
        for (table,) in tables:
            rows, digest = conn.execute(
                "select count(*), coalesce(sum(md5_number_upper(r::varchar)), 0)::varchar"
                f" from (select columns(lambda c: c <> 'fetched_at') from raw.{table}) r"
            ).fetchone()
            if rows:
                out[table] = (rows, digest)
    return out


def test_default_preset_writes_the_rows_it_always_did(tmp_path):
    write_world(str(tmp_path / "w.duckdb"), BenchWorld(persons=300, days=5, end_date=END), log=lambda *_: None)
    assert _digests(tmp_path / "w.duckdb") == DEFAULT_300x5


def test_adversarial_preset_has_rings_bots_and_a_truth_outside_the_warehouse(tmp_path):
    spec = BenchWorld(persons=300, days=3, end_date=END, preset="adversarial")
    write_world(str(tmp_path / "w.duckdb"), spec, log=lambda *_: None, truth_dir=str(tmp_path))
    truth, rings = pd.read_parquet(tmp_path / TRUTH_FILE), pd.read_parquet(tmp_path / RINGS_FILE)
    persons = truth[truth.key == truth.person_id]
    assert len(persons) == 300 and set(persons.archetype) == set(w.ARCHETYPES)
    assert (truth.key.str.contains(":") & truth.key.str.split(":").str[0].isin(NETWORKS)).any()
    assert set(rings.kind) == {"engagement", "kplus", "community"}
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        schemas = {s for (s,) in conn.execute("select distinct table_schema from information_schema.tables").fetchall()}
        assert schemas == {"raw"}  # the truth is not in the warehouse
        reactions = pd.concat(
            [
                conn.execute(
                    f"select '{n}' as network, post_id, target_account_id, reactor_account_id, reaction_type,"
                    f" partition_day from raw.{n}_reactions"
                ).df()
                for n in NETWORKS
            ]
        )
        posts = pd.concat(
            [conn.execute(f"select '{n}' as network, post_id, account_id from raw.{n}_posts").df() for n in NETWORKS]
        )
    key = truth.set_index("key")
    reactions["reactor"] = (reactions.network + ":" + reactions.reactor_account_id).map(key.person_id)
    reactions["target"] = (reactions.network + ":" + reactions.target_account_id).map(key.person_id)
    posts["author"] = (posts.network + ":" + posts.account_id).map(key.person_id)
    # every engagement ring's members like each other's posts on every day of the world
    for ring_id, members in rings[rings.kind == "engagement"].groupby("ring_id"):
        network = members.network.iloc[0]
        inside = reactions[
            reactions.reactor.isin(members.person_id)
            & reactions.target.isin(members.person_id)
            & (reactions.network == network)
            & (reactions.reaction_type == w.like_word(network))
        ]
        assert inside.partition_day.nunique() == spec.days, ring_id
        pairs = inside.groupby("partition_day").apply(lambda g: len(set(zip(g.reactor, g.target))))
        n = len(members)
        assert (pairs >= 0.8 * n * (n - 1)).all(), (ring_id, pairs.to_dict())  # gated accounts aside
    # bots like ~90% of the top-level posts of their network (replies and quotes are posts too, not liked)
    bots = set(persons.person_id[persons.archetype == "bot"])
    checked = 0
    for network in NETWORKS:
        here = reactions[reactions.network == network]
        carriers = here.reaction_type.isin(["reply", "quote"]).sum()
        top_level = (posts.network == network).sum() - carriers
        for bot in set(here.reactor[here.reactor.isin(bots)]):
            liked = here[(here.reactor == bot) & (here.reaction_type == w.like_word(network))].post_id.nunique()
            assert liked >= 0.8 * top_level, (network, bot, liked, top_level)
            checked += 1
    assert checked
