"""Google+ Takeout archives of the world's people, and the rows a correct import lands.

Google+ has no API to imitate (it closed on 2 April 2019): what survives is each person's
Takeout, `Takeout/Google+ Stream/Posts/*.json`, one JSON object per post with its +1s, reshares
and comments. `build_takeout(world, person)` renders a person's posts (their top-level posts on
every network of the world, moved back in time so the world's last day is 2019-03-31) as such
an archive, in the keys of /work/shared/reference/googleplus/unique_keys_in_takeout_posts.txt:
everyone has one Google+ id (`users/1` + 20 digits), posts have activity ids, and the world's
reactions become +1s (likes, favourites, reactions), reshares (reposts, retweets, reblogs,
shares) and comments (replies, comments, with their time and the reply's text); the words
Google+ had no counterpart for (quotes, mentions, thanks, bookmarks) are not in the archive.
Optionally a share of the post files is broken in Takeout's own ways (a truncated file, a post
without `creationTime`, a post without its author). `TakeoutArchive.truth` is the ground truth.

`python -m sandbox.takeout --person p000123 --out takeout.zip [--faults 0.1]` writes one.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.world import World, WorldConfig, build_world

NETWORK = "googleplus"
POSTS_DIR = "Takeout/Google+ Stream/Posts"
GPLUS_LAST_DAY = date(2019, 3, 31)  # the world's end_date maps here: Google+ closed on 2 April 2019
# the world's native words that Google+ had, as the archive's kinds (others are not in it)
TAKEOUT_KINDS = {
    "like": "plusone",
    "favourite": "plusone",
    "reaction": "plusone",
    "repost": "reshare",
    "retweet": "reshare",
    "reblog": "reshare",
    "share": "reshare",
    "reply": "comment",
    "comment": "comment",
}
SHARED_WORD = {"plusone": "like", "reshare": "reshare", "comment": "reply"}  # as the import maps them
FAULT_KINDS = ("truncated", "no_creation_time", "no_author")
_TAG = re.compile(r"#(\w+)")
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class TakeoutArchive:
    """The archive's files (name inside the archive -> bytes), the ground truth (one row per
    import key, docs/contracts.md "Google+ Takeout") and the broken files (name -> fault kind)."""

    person_id: str
    author: str
    files: dict[str, bytes]
    truth: pd.DataFrame
    faulty: dict[str, str] = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """A `.zip` when `out` ends so, else an unpacked folder."""
        out = Path(out)
        if out.suffix.lower() == ".zip":
            out.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, data in self.files.items():
                    archive.writestr(zipfile.ZipInfo(name, date_time=(2019, 3, 31, 12, 0, 0)), data)
            return out
        for name, data in self.files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        return out


def gplus_id(world: World, person_id: str) -> str:
    """A person's Google+ resource name: `users/` and a 21-digit id, stable per (seed, person)."""
    digest = hashlib.sha256(f"{world.config.seed}:{person_id}".encode()).digest()
    return f"users/1{int.from_bytes(digest[:12], 'big') % 10**20:020d}"


def _activity_id(network: str, post_id: str) -> str:
    digest = hashlib.sha256(f"{network}:{post_id}".encode()).digest()
    return "z1" + "".join(_ALNUM[b % 36] for b in digest[:33])


def _stamp(ts: pd.Timestamp) -> str:
    """Takeout's time format: `2019-03-31 12:34:56+0000`."""
    return ts.strftime("%Y-%m-%d %H:%M:%S+0000")


def _content(text: str) -> str:
    """A post's text as Google+'s HTML: escaped, hashtags as links."""
    escaped = html.escape(text)
    return _TAG.sub(
        lambda m: f'<a rel="nofollow" class="ot-hashtag" href="https://plus.google.com/s/%23{m[1]}/posts">#{m[1]}</a>',
        escaped,
    )


def _person(world: World, person_id: str) -> dict:
    digits = gplus_id(world, person_id).removeprefix("users/")
    names = world.persons.set_index("person_id").display_name
    return {
        "displayName": str(names.get(person_id, person_id)),
        "profilePageUrl": f"https://plus.google.com/{digits}",
        "avatarImageUrl": f"https://lh3.googleusercontent.com/-{digits[-8:]}/photo.jpg",
        "resourceName": f"users/{digits}",
    }


def build_takeout(world: World, person_id: str, faults: float = 0.0) -> TakeoutArchive:
    """`person_id`'s archive; with `faults`, that share of the post files broken (round(share x
    posts), at least one when there are posts), their kinds in turn."""
    shift = pd.Timedelta(days=(GPLUS_LAST_DAY - world.config.end_date).days)
    accounts = world.accounts
    mine = accounts.loc[accounts.person_id == person_id, ["network", "account_id"]]
    posts = world.posts.merge(mine, on=["network", "account_id"])
    posts = posts[posts.kind == "post"].sort_values(["created_at", "network", "post_id"], ignore_index=True)
    # times at Takeout's precision (seconds), moved into Google+'s years
    posts["time"] = (posts.created_at + shift).dt.floor("s")
    posts["activity_id"] = [_activity_id(n, p) for n, p in zip(posts.network, posts.post_id)]

    reactions = world.reactions.merge(posts[["network", "post_id", "activity_id", "time"]], on=["network", "post_id"])
    reactions = reactions.assign(kind=reactions.reaction_type.map(TAKEOUT_KINDS)).dropna(subset=["kind"])
    owners = accounts.set_index(["network", "account_id"]).person_id
    reactions["reactor_person"] = owners.reindex(
        pd.MultiIndex.from_arrays([reactions.network, reactions.reactor_account_id])
    ).to_numpy()
    reactions["reactor"] = [gplus_id(world, p) for p in reactions.reactor_person]
    reactions["reaction_time"] = (reactions.created_at + shift).dt.floor("s")
    reactions = reactions.sort_values(["time", "activity_id", "reaction_time", "reactor", "kind"], ignore_index=True)
    reactions = reactions.drop_duplicates(["activity_id", "reactor", "kind"], ignore_index=True)
    texts = world.posts.set_index(["network", "post_id"]).text

    author = _person(world, person_id)
    rng = np.random.default_rng([world.config.seed, int(person_id.lstrip("p") or 0), 18])
    broken_count = min(len(posts), max(1, round(faults * len(posts)))) if faults > 0 and len(posts) else 0
    broken = dict(zip(sorted(rng.choice(len(posts), broken_count, replace=False)), FAULT_KINDS * len(posts)))

    files: dict[str, bytes] = {}
    faulty: dict[str, str] = {}
    truth_rows = []
    by_post = dict(tuple(reactions.groupby("activity_id", sort=False)))
    for index, post in posts.iterrows():
        mine_reactions = by_post.get(post.activity_id, reactions.iloc[:0])
        document = _post_json(world, author, post, mine_reactions, texts)
        name = _file_name(post, files)
        kind = broken.get(index)
        if kind is None:
            files[name] = json.dumps(document, ensure_ascii=False, indent=2).encode()
            truth_rows += _truth(author["resourceName"], post, mine_reactions)
            continue
        faulty[name] = kind
        if kind == "no_creation_time":
            del document["creationTime"]
        elif kind == "no_author":
            del document["author"]
        data = json.dumps(document, ensure_ascii=False, indent=2).encode()
        files[name] = data[: len(data) // 2] if kind == "truncated" else data
    truth = pd.DataFrame(
        truth_rows,
        columns=["network", "post_id", "author", "post_time", "text", "reactor", "reaction_type", "reaction_time"],
    )
    truth["partition_day"] = [
        (r if pd.notna(r) else p).date() for p, r in zip(truth.post_time, truth.reaction_time, strict=True)
    ]
    return TakeoutArchive(person_id, author["resourceName"], files, truth, faulty)


def _post_json(world: World, author: dict, post, reactions: pd.DataFrame, texts: pd.Series) -> dict:
    digits = author["resourceName"].removeprefix("users/")
    resource = f"{author['resourceName']}/posts/{post.activity_id}"
    document = {
        "url": f"https://plus.google.com/{digits}/posts/{post.activity_id[2:13]}",
        "creationTime": _stamp(post.time),
        "updateTime": _stamp(post.time),
        "author": author,
        "content": _content(post.text),
        "activityId": post.activity_id,
        "resourceName": resource,
        "postAcl": {"isPublic": True},
    }
    plus = reactions[reactions.kind == "plusone"]
    shares = reactions[reactions.kind == "reshare"]
    comments = reactions[reactions.kind == "comment"]
    if len(plus):
        document["plusOnes"] = [{"plusOner": _person(world, p)} for p in plus.reactor_person]
    if len(shares):
        document["reshares"] = [{"resharer": _person(world, p)} for p in shares.reactor_person]
    if len(comments):
        document["comments"] = [
            {
                "creationTime": _stamp(c.reaction_time),
                "author": _person(world, c.reactor_person),
                "content": _content(texts.get((c.network, c.carrier_post_id), "") if c.carrier_post_id else ""),
                "resourceName": f"{resource}/comments/{n}",
                "commentActivityId": f"{post.activity_id}#{int(c.reaction_time.timestamp() * 1000)}",
                "postUrl": document["url"],
            }
            for n, c in enumerate(comments.itertuples(index=False), start=1)
        ]
    return document


def _file_name(post, taken: dict) -> str:
    """Takeout names a post file by its day and the start of its text, `(n)` when taken."""
    words = re.sub(r"[^\w #@-]+", "", post.text)[:40].strip() or "Post"
    stem = f"{POSTS_DIR}/{post.time:%Y%m%d} - {words}"
    name, n = f"{stem}.json", 1
    while name in taken:
        name, n = f"{stem}({n}).json", n + 1
    return name


def _truth(author: str, post, reactions: pd.DataFrame) -> list[tuple]:
    """The rows the import lands for one post: one per reaction (+1s and reshares without a time:
    the archive gives none), or the post alone when nobody reacted."""
    base = ("googleplus", post.activity_id, author, post.time, post.text)
    if not len(reactions):
        return [(*base, None, None, pd.NaT)]
    return [
        (*base, r.reactor, SHARED_WORD[r.kind], r.reaction_time if r.kind == "comment" else pd.NaT)
        for r in reactions.itertuples(index=False)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.takeout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--person", required=True, help="a person of the world, e.g. p000123")
    parser.add_argument("--out", required=True, help="takeout.zip, or a folder to unpack it into")
    parser.add_argument("--faults", type=float, default=0.0, help="share of post files broken (e.g. 0.1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--end-date", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    dated = {"end_date": args.end_date} if args.end_date else {}
    world = build_world(WorldConfig(seed=args.seed, persons=args.persons, days=args.days, **dated))
    if args.person not in set(world.persons.person_id):
        parser.error(f"no person {args.person} in a world of {args.persons}")
    archive = build_takeout(world, args.person, args.faults)
    out = archive.write(args.out)
    print(
        f"{out}: {len(archive.files)} posts by {archive.author} ({len(archive.faulty)} broken),"
        f" {len(archive.truth)} rows a correct import lands"
    )


if __name__ == "__main__":
    main()
