"""A sandbox world as an interaction log in the bulk importer's format (docs/contracts.md, "Bulk imports").

The held-out check of issue 21 runs the score on a log through the importer: timestamps of posts and
reactions, who acted on whose post, no follower counts. Real logs cannot be fetched on this machine,
so this writes one from a world no formula was fitted on, to run the same path:

    .venv/bin/python -m tests.bench.export_log out.csv --persons 2000 --days 90 --seed 2002
    .venv/bin/python -m tests.bench.run --only validity --validity-log out.csv

Every account is `<network>:<account id>` (ids are only unique within a network); posts nobody reacted
to are post-only rows; reaction words the importer does not know (a bookmark, a Khoros kudo) are left out.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pandas as pd

from orchestration.imports import REACTION_WORDS
from sandbox.world import PRESETS, WorldConfig, build_world

COLUMNS = ["author", "post_id", "post_time", "reactor", "reaction_type", "reaction_time", "text"]


def world_log(cfg: WorldConfig) -> pd.DataFrame:
    """The world's posts and reactions as import rows (mentions included: the importer scores them)."""
    world = build_world(cfg)
    posts = world.posts.assign(
        author=world.posts.network + ":" + world.posts.account_id.astype(str),
        post_id=world.posts.network + ":" + world.posts.post_id.astype(str),
        post_time=world.posts.created_at,
    )
    r = world.reactions[world.reactions.reaction_type.isin(REACTION_WORDS)]
    reactions = pd.DataFrame(
        {
            "author": r.network + ":" + r.target_account_id.astype(str),
            "post_id": r.network + ":" + r.post_id.astype(str),
            "reactor": r.network + ":" + r.reactor_account_id.astype(str),
            "reaction_type": r.reaction_type,
            "reaction_time": r.created_at,
        }
    )
    reactions = reactions.merge(posts[["post_id", "post_time", "text"]], on="post_id", how="inner")
    reacted = set(reactions.post_id[reactions.reaction_type != "mention"])  # a mention names no post of its author
    lonely = posts[~posts.post_id.isin(reacted)].assign(reactor=None, reaction_type=None, reaction_time=pd.NaT)
    out = pd.concat([reactions, lonely[COLUMNS]], ignore_index=True)[COLUMNS]
    for column in ("post_time", "reaction_time"):
        out[column] = pd.to_datetime(out[column], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return out.sort_values(["post_time", "post_id", "reactor"], na_position="first", ignore_index=True)


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(prog="tests.bench.export_log", description=__doc__.splitlines()[0])
    p.add_argument("out", help="the log to write (.csv, .tsv or .parquet)")
    p.add_argument("--persons", type=int, default=2_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--seed", type=int, default=2002, help="a seed no formula was fitted on (1001) or tested on (7)")
    p.add_argument("--preset", choices=PRESETS, default="adversarial")
    p.add_argument("--end-date", default="2026-03-31")
    a = p.parse_args(argv)
    cfg = WorldConfig(
        seed=a.seed, persons=a.persons, days=a.days, preset=a.preset, end_date=date.fromisoformat(a.end_date)
    )
    out = Path(a.out)
    log = world_log(cfg)
    if out.suffix in (".parquet", ".pq"):
        log.to_parquet(out, index=False)
    else:
        log.to_csv(out, sep="\t" if out.suffix in (".tsv", ".tab") else ",", index=False)
    print(
        f"{out}: {len(log):,} rows ({log.reactor.notna().sum():,} reactions): a {a.preset} world,"
        f" seed {a.seed}, {a.persons:,} persons x {a.days} days to {a.end_date}"
    )
    return out


if __name__ == "__main__":
    main()
