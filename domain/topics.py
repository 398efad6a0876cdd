"""Which topics a person is influential about, from what they post and what it earns.

A topic someone posts about counts in proportion to the engagement those posts earn: talking
about a topic nobody reacts to is weak evidence. Evidence on a topic also supports every broader
topic above it (Python -> Programming -> Technology), decayed per level. Profiles then honour
the owner's edits: anyone may add a topic to a friend, only the owner may remove one.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re

import numpy as np
import pandas as pd

from .ontology import Ontology
from .privacy import minors_on
from .score import day_numbers, sorted_codes, sorted_unique

EDIT_ACTIONS = ("add", "remove")
SOURCES = ("assigned", "self_added", "friend_added")  # priority when a topic has several

_TOKEN_RE = re.compile(r"#?\w+(?:[-.+]\w+)*")
EVIDENCE_COLUMNS = ["person_id", "topic_slug", "direct_evidence", "evidence"]


def match_topics(
    text: str,
    keyword_index: dict[str, tuple[str, ...]],
    *,
    hashtag_weight: float = 1.0,
    word_weight: float = 0.5,
    max_ngram: int = 3,
) -> dict[str, float]:
    """topic slug -> match strength of one text: a hashtag is a deliberate signal and counts
    more than a bare word or phrase; each topic counts once per text (its strongest match)."""
    tokens = _TOKEN_RE.findall(str(text).lower())
    words = [t.lstrip("#") for t in tokens]
    found: dict[str, float] = {}
    for n in range(1, max_ngram + 1):
        for i in range(len(words) - n + 1):
            slugs = keyword_index.get(words[i] if n == 1 else " ".join(words[i : i + n]))
            if not slugs:
                continue
            strength = hashtag_weight if n == 1 and tokens[i].startswith("#") else word_weight
            for slug in slugs:
                if strength > found.get(slug, 0.0):
                    found[slug] = strength
    return found


def matcher_fingerprint(ontology: Ontology, *, hashtag_weight: float = 1.0, word_weight: float = 0.5) -> str:
    """What a post's matches depend on besides its text: the keyword index, the weights and the
    matching code itself. Stored matches are reused only under the same fingerprint."""
    try:
        code = inspect.getsource(match_topics)
    except OSError:  # deployed without sources
        code = match_topics.__code__.co_code.hex()
    parts = [
        sorted(ontology.keyword_index().items()),
        float(hashtag_weight),
        float(word_weight),
        _TOKEN_RE.pattern,
        code,
    ]
    return _fingerprint(parts)


def _fingerprint(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def evidence_fingerprint(ontology: Ontology, rules: dict, window: int, matcher: str) -> str:
    """What carried evidence (TopicState) depends on besides the data: the rules, the window, the
    ontology's hierarchy, the matcher and how terms are summed. A state is carried only under it."""
    return _fingerprint(
        [sorted(rules.items()), window, ontology.ancestor_table().values.tolist(), matcher, TERM_BITS, LIMB_BITS]
    )


def text_topic_matches(
    texts: pd.Series, ontology: Ontology, *, hashtag_weight: float = 1.0, word_weight: float = 0.5
) -> pd.DataFrame:
    """text_index, topic_slug, strength: `match_topics` of each text (by position), one row per topic."""
    index = ontology.keyword_index()
    rows = [
        (i, slug, strength)
        for i, text in enumerate(texts)
        for slug, strength in match_topics(text, index, hashtag_weight=hashtag_weight, word_weight=word_weight).items()
    ]
    return pd.DataFrame(rows, columns=["text_index", "topic_slug", "strength"])


class PostNumbers:
    """`pd.factorize(ids)`: each distinct post id numbered in order of first appearance (`codes`),
    and `of(ids)` looks ids up (-1 if absent). Sorted ids (the warehouse orders matches by post)
    are numbered by their runs, without hashing millions of rows."""

    def __init__(self, ids: np.ndarray):
        if len(ids) < 2 or (ids.dtype.kind in "iu" and bool((ids[1:] >= ids[:-1]).all())):
            starts = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, dtype=bool)
            self.codes, found = np.cumsum(starts) - 1, ids[starts]
        else:
            self.codes, found = pd.factorize(ids)
        self.index = pd.Index(found)

    def __len__(self) -> int:
        return len(self.index)

    def of(self, values) -> np.ndarray:
        return self.index.get_indexer(np.asarray(values))  # a hash lookup: binary search is 3x slower here


def positions_in(index: pd.Index, values: pd.Series) -> np.ndarray:
    """`index.get_indexer(values)` (-1 where absent or null), through a categorical's categories."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        at = np.append(index.get_indexer(values.cat.categories), -1)  # code -1 (null) picks the -1
        return at[values.cat.codes.to_numpy()]
    return index.get_indexer(values)


def engagement_factor(reactions, engagement_floor: float) -> np.ndarray:
    """How much a post's topics count: log1p of the reactions it earned, plus a floor."""
    return np.log1p(np.maximum(np.asarray(reactions, dtype=float), 0.0)) + engagement_floor


class StaleTopicState(ValueError):
    """Carried topic evidence that cannot be yesterday's: read the whole window instead."""


TERM_BITS, LIMB_BITS = 52, 21  # a term is kept to 2^-52 as three 21-bit limbs
LIMB_MASK = (1 << LIMB_BITS) - 1
MAX_TERM = 2.0 ** (63 - TERM_BITS)  # a term's 2^-52 units must fit an int64


def term_limbs(values) -> np.ndarray:
    """(n, 3) limbs (low to high, as float64 integers below 2^21) of each term's nearest multiple of
    2^-52: added per limb, millions of terms sum exactly in float64, in any order."""
    values = np.asarray(values, dtype=float)
    bad = ~((values >= 0.0) & (values < MAX_TERM))
    if bad.any():
        raise ValueError(
            f"topic evidence term {float(values[bad][0])!r} is outside [0, {MAX_TERM:g}): cannot be summed exactly"
        )
    units = np.rint(values * 2.0**TERM_BITS).astype(np.int64)
    return np.stack([units & LIMB_MASK, (units >> LIMB_BITS) & LIMB_MASK, units >> (2 * LIMB_BITS)], axis=1).astype(
        float
    )


class KeySums:
    """Each key's sum of terms, exact: the terms' limbs summed apart (float64 holds integers to 2^53,
    so up to 2^32 terms a key) and `count` terms. A sum is then the same to the last bit whatever
    the order, or the path: a whole window summed, or yesterday's sums plus what entered and minus
    what left (a daily run carries them; a float sum would drift from the backfill's)."""

    def __init__(self, limbs: np.ndarray, count: np.ndarray):
        self.limbs, self.count = limbs, count

    @classmethod
    def of(cls, keys: np.ndarray, values, n: int) -> KeySums:
        keys, limbs = np.asarray(keys, dtype=np.int64), term_limbs(values)
        sums = np.stack([np.bincount(keys, weights=limbs[:, i], minlength=n) for i in range(3)], axis=1)
        return cls(sums.reshape(n, 3), np.bincount(keys, minlength=n).astype(np.int64))

    def value(self) -> np.ndarray:
        """The sums as doubles, always by the same operations."""
        low, middle, high = self.limbs[:, 0], self.limbs[:, 1], self.limbs[:, 2]
        return (
            high * 2.0 ** (2 * LIMB_BITS - TERM_BITS) + middle * 2.0 ** (LIMB_BITS - TERM_BITS)
        ) + low * 2.0**-TERM_BITS


class RollUp:
    """Where each (person, topic) key's direct evidence rolls up: every ancestor of its topic, at
    rollup_decay ** distance, in the ancestor table's order. `keys` (person code x topics + topic
    code) are sorted, so a day's evidence adds the same terms in the same order whichever keys were
    numbered: a run's every key or only today's (a carried day)."""

    def __init__(self, keys: np.ndarray, n_persons: int, ontology: Ontology, rollup_decay: float):
        self.topics = pd.Index(sorted(ontology.slugs))
        n_topics = len(self.topics)
        up = ontology.ancestor_table()
        up = up.assign(topic=self.topics.get_indexer(up["slug"]), ancestor=self.topics.get_indexer(up["ancestor_slug"]))
        up = up.sort_values("topic", kind="stable")
        up_count = np.bincount(up["topic"].to_numpy(), minlength=n_topics)
        key_person, key_topic = np.divmod(keys, n_topics)
        count = up_count[key_topic]
        self.up_source = np.repeat(np.arange(len(keys)), count)
        entry = np.repeat((np.cumsum(up_count) - up_count)[key_topic], count) + (
            np.arange(len(self.up_source)) - np.repeat(np.cumsum(count) - count, count)
        )
        up_keys = key_person[self.up_source] * n_topics + up["ancestor"].to_numpy(dtype=np.int64)[entry]
        self.up_factor = np.power(rollup_decay, up["distance"].to_numpy(dtype=float))[entry]
        shown_at, self.shown_keys = sorted_unique(np.concatenate([keys, up_keys]), n_persons * n_topics)
        self.key_at, self.up_at = shown_at[: len(keys)], shown_at[len(keys) :]

    def frame(self, direct: np.ndarray, present: np.ndarray, persons: pd.Index) -> pd.DataFrame:
        """person_id, topic_slug, direct_evidence, evidence of the keys `present` and their ancestors."""
        if not present.any():
            return pd.DataFrame(columns=EVIDENCE_COLUMNS)
        live = present[self.up_source]  # roll up only what has evidence today
        n_shown = len(self.shown_keys)
        direct_shown = np.zeros(n_shown)
        direct_shown[self.key_at] = direct
        inherited = np.bincount(
            self.up_at[live], weights=direct[self.up_source[live]] * self.up_factor[live], minlength=n_shown
        )
        shown = np.zeros(n_shown, dtype=bool)
        shown[self.key_at[present]] = True
        shown[self.up_at[live]] = True
        at = np.flatnonzero(shown)
        person, topic = np.divmod(self.shown_keys[at], len(self.topics))
        return pd.DataFrame(
            {
                "person_id": persons[person],
                "topic_slug": self.topics[topic],
                "direct_evidence": direct_shown[at],
                "evidence": direct_shown[at] + inherited[at],
            }
        )


class WindowEvidence:
    """Topic evidence for each day of a run (tests/domain/oracles.py::topic_evidence is the
    reference, one frame at a time): the run's topic matches are encoded once, so a day's
    evidence is array arithmetic over its window, not a string group-by (a backfill asks ninety
    times).

    Every (person, topic) any day of the run can produce, and every ancestor it rolls up to, is
    numbered once, in sorted order; a day is then a few `bincount`s over those numbers.
    `matches`: post_key, person_id (author), topic_slug, strength; `match_day`: each match's post
    day number. `mentions`: post_key, person_id (mentioned); `mention_day`: their day numbers.
    `posts`: the matches' post keys numbered (PostNumbers), when the caller has them already.
    """

    def __init__(
        self,
        matches: pd.DataFrame,
        match_day,
        mentions: pd.DataFrame,
        mention_day,
        ontology: Ontology,
        *,
        mention_weight: float = 0.5,
        rollup_decay: float = 0.5,
        posts: PostNumbers | None = None,
    ):
        n_rows = len(matches)
        person_code, self.persons = sorted_codes(matches["person_id"], mentions["person_id"])
        self.topics = pd.Index(sorted(ontology.slugs))
        n_topics = len(self.topics)
        author, topic = person_code[:n_rows], positions_in(self.topics, matches["topic_slug"])
        # a match without a known author or topic counts for no one (code -1 would index the last person)
        self.known = (author >= 0) & (topic >= 0)
        self.day = np.asarray(match_day, dtype=np.int64)
        self.mention_weight = mention_weight
        posts = posts if posts is not None else PostNumbers(matches["post_key"].to_numpy())
        rows = pd.DataFrame({"post": posts.codes, "row": np.arange(n_rows)})
        said = pd.DataFrame(
            {
                "post": posts.of(mentions["post_key"]),  # -1, a post with no match, joins no row
                "mentioned": person_code[n_rows:],
                "mention_day": np.asarray(mention_day, dtype=np.int64),
            }
        )
        pairs = rows.merge(said, on="post").sort_values(["row", "mentioned", "mention_day"], kind="stable")
        mentioned, row = pairs["mentioned"].to_numpy(), pairs["row"].to_numpy()
        pairs = pairs[
            (mentioned != author[row]) & (mentioned >= 0) & self.known[row]
        ]  # being the author is not a mention
        self.pair_row, pair_person, self.pair_day = (
            pairs[c].to_numpy(dtype=np.int64) for c in ("row", "mentioned", "mention_day")
        )
        # every (person, topic) the run can produce, numbered in sorted order
        known = np.flatnonzero(self.known)
        key_space = len(self.persons) * n_topics
        key_number, keys = sorted_unique(
            np.concatenate([author[known] * n_topics + topic[known], pair_person * n_topics + topic[self.pair_row]]),
            key_space,
        )
        self.row_key = np.full(n_rows, -1, dtype=np.int64)  # never read: unknown rows are never in a window
        self.row_key[known], self.pair_key = key_number[: len(known)], key_number[len(known) :]
        self.keys = keys
        self.roll_up = RollUp(keys, len(self.persons), ontology, rollup_decay)

    def key_sums(self, today: int, window: int, weight: np.ndarray) -> KeySums:
        """The exact sums (KeySums) of each of `self.keys`' terms from the matches posted in the
        `window` days ending `today` (a day number), with `weight` per match row, and the mentions
        made in that window (each person once per post; not the post's author)."""
        in_window = (self.day > today - window) & (self.day <= today) & self.known
        rows = np.flatnonzero(in_window)
        said = np.flatnonzero((self.pair_day > today - window) & (self.pair_day <= today) & in_window[self.pair_row])
        pair_row, pair_key = self.pair_row[said], self.pair_key[said]
        once = (
            np.r_[True, (pair_row[1:] != pair_row[:-1]) | (pair_key[1:] != pair_key[:-1])]
            if len(said)
            else said.astype(bool)
        )
        pair_row, pair_key = pair_row[once], pair_key[once]  # a person mentioned in a post counts once, however often
        keys = np.concatenate([self.row_key[rows], pair_key])
        values = np.concatenate([weight[rows], weight[pair_row] * self.mention_weight])
        return KeySums.of(keys, values, len(self.keys))

    def evidence(self, today: int, window: int, weight: np.ndarray) -> pd.DataFrame:
        """Evidence per (person_id, topic_slug) on `today` (see `key_sums`). Columns as `topic_evidence`."""
        sums = self.key_sums(today, window, weight)
        return self.roll_up.frame(sums.value(), sums.count > 0, self.persons)


def assign_topics(evidence: pd.DataFrame, expert_top_pct: float = 0.1, min_evidence: float = 1.0) -> pd.DataFrame:
    """person_id, topic_slug, evidence, percentile, is_expert, person_rank.

    A topic is assigned when its evidence reaches `min_evidence`. `percentile` is the share of
    the topic's assigned people with evidence <= this person's; the experts are the top
    ceil(expert_top_pct x n) of them (ties by person_id). `person_rank` 1 is the person's
    strongest topic.
    """
    cols = ["person_id", "topic_slug", "evidence", "percentile", "is_expert", "person_rank"]
    # judged and ranked on the published evidence: a difference below 1e-9 is float noise, so a
    # sum that lands a hair under min_evidence (or under a rival) only by summation order is not
    published = evidence["evidence"].astype(float).round(9)
    a = evidence.loc[published >= min_evidence, ["person_id", "topic_slug"]].assign(
        evidence=published[published >= min_evidence]
    )
    if a.empty:
        return pd.DataFrame(columns=cols)
    # ordered on sorted integer codes, not strings: (person, topic) is unique, so the order is total
    topic, _ = pd.factorize(a["topic_slug"], sort=True)
    person, _ = pd.factorize(a["person_id"], sort=True)
    value = a["evidence"].to_numpy(dtype=float)
    by_topic = np.lexsort((person, -value, topic))  # topic, evidence descending, person
    t, v = topic[by_topic], value[by_topic]
    starts = np.r_[True, t[1:] != t[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(t)), 0))
    size = np.diff(np.r_[np.flatnonzero(starts), len(t)])[np.cumsum(starts) - 1]
    position = np.arange(len(t)) - group_start
    # rank "max": how many of the topic's evidences are <= this one (equal ones are adjacent)
    run_start = np.maximum.accumulate(np.where(starts | np.r_[True, v[1:] != v[:-1]], np.arange(len(t)), 0))
    percentile = np.empty(len(t))
    percentile[by_topic] = (size - (run_start - group_start)).astype(float) / size.astype(float)
    expert = np.empty(len(t), dtype=bool)
    expert[by_topic] = position < np.ceil(size * expert_top_pct)
    by_person = np.lexsort((topic, -value, person))  # person, evidence descending, topic
    p = person[by_person]
    p_starts = np.r_[True, p[1:] != p[:-1]]
    p_rank = np.arange(len(p)) - np.maximum.accumulate(np.where(p_starts, np.arange(len(p)), 0)) + 1
    out = a.iloc[by_person].reset_index(drop=True)
    out["percentile"] = percentile[by_person]
    out["is_expert"] = expert[by_person]
    out["person_rank"] = p_rank.astype(np.int64)
    return out[cols]


def apply_profile_edits(
    assigned: pd.DataFrame, edits: pd.DataFrame, friends: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The topics shown on profiles: person_id, topic_slug, source (assigned|self_added|friend_added).

    `edits`: person_id (the profile owner), editor_person_id, topic_slug, action (add|remove).
    Anyone may add a topic to a profile (only friends, when `friends` — person_id,
    friend_person_id, either direction — is given); only the owner may remove one, and a
    removal beats assignment and every add, whenever it was made. Others' removals are ignored.
    """
    bad = sorted(set(edits["action"]) - set(EDIT_ACTIONS))
    if bad:
        raise ValueError(f"unknown profile edit action(s) {bad}; expected one of {EDIT_ACTIONS}")
    own = edits["editor_person_id"] == edits["person_id"]
    adds = edits[edits["action"] == "add"]
    if friends is not None:
        pairs = set(zip(friends["person_id"], friends["friend_person_id"]))
        pairs |= {(b, a) for a, b in pairs}
        allowed = [
            o or (p, e) in pairs for o, p, e in zip(own[adds.index], adds["person_id"], adds["editor_person_id"])
        ]
        adds = adds[np.asarray(allowed, dtype=bool)]
    removals = edits[(edits["action"] == "remove") & own]
    profile = pd.concat(
        [
            assigned[["person_id", "topic_slug"]].assign(source="assigned"),
            adds[["person_id", "topic_slug"]].assign(source=np.where(own[adds.index], "self_added", "friend_added")),
        ],
        ignore_index=True,
    )
    profile["priority"] = profile["source"].map({s: i for i, s in enumerate(SOURCES)})
    profile = profile.sort_values(["person_id", "topic_slug", "priority"]).drop_duplicates(["person_id", "topic_slug"])
    removed = pd.MultiIndex.from_frame(removals[["person_id", "topic_slug"]])
    keep = ~pd.MultiIndex.from_frame(profile[["person_id", "topic_slug"]]).isin(removed)
    return profile.loc[keep, ["person_id", "topic_slug", "source"]].reset_index(drop=True)


class TopicDays:
    """Each person's topics for each day of a run, from the run's topic matches, the reactions and
    mentions those posts earned and the profile edits: the inputs are encoded once and a day is
    array arithmetic (WindowEvidence), so a backfill of ninety days is not ninety group-bys.

    `matches`: post_id, person_id, post_day, topic_slug, strength. `reacted`: post_id, event_day,
    reactions. `mentions`: post_id, person_id (mentioned), event_day. `profiles`: person_id,
    birth_date. `edits`: person_id, editor_person_id, topic_slug, action, edited_day, in order.
    `rules`: the product's topic rules (weights, floor, decay, expert share, minimum evidence).
    """

    def __init__(self, matches, reacted, mentions, profiles, edits, ontology: Ontology, rules: dict, window: int):
        self.rules, self.window, self.profiles, self.edits = rules, window, profiles, edits
        self.matches, self.mentions = matches, mentions
        posts = PostNumbers(matches["post_id"].to_numpy())
        self.match_post, self.n_posts = posts.codes, len(posts)
        reacted = reacted.assign(post=posts.of(reacted["post_id"]), day=day_numbers(reacted["event_day"]))
        self.reacted = reacted.sort_values("day", kind="stable")
        self.edit_day = day_numbers(edits["edited_day"])
        self.match_day = day_numbers(matches["post_day"])
        self.engine = WindowEvidence(
            matches.rename(columns={"post_id": "post_key"}),
            self.match_day,
            mentions.rename(columns={"post_id": "post_key"}),
            day_numbers(mentions["event_day"]),
            ontology,
            mention_weight=rules["mention_weight"],
            rollup_decay=rules["rollup_decay"],
            posts=posts,
        )
        self.strength = matches["strength"].to_numpy(dtype=float)

    def _weights(self, today: int) -> tuple[np.ndarray, np.ndarray]:
        """(each match row's weight, its post's reactions through `today`)."""
        earned = self._earned(today)
        return self.strength * engagement_factor(earned, self.rules["engagement_floor"]), earned

    def _earned(self, today: int) -> np.ndarray:
        """Each match row's post's reactions through `today`."""
        through_today = int(np.searchsorted(self.reacted["day"].to_numpy(), today, side="right"))
        earned = np.bincount(
            self.reacted["post"].to_numpy()[:through_today],
            weights=self.reacted["reactions"].to_numpy(dtype=float)[:through_today],
            minlength=self.n_posts,
        )
        return earned[self.match_post]

    def on(self, day) -> pd.DataFrame:
        """person_id, topic_slug, evidence, is_expert, ... and the profile edits' effect, on `day`;
        minors are never ranked."""
        today = day_numbers([day])[0]
        evidence = self.engine.evidence(today, self.window, self._weights(today)[0])
        return published_topics(evidence, day, self.rules, self.profiles, self.edits, self.edit_day)

    def state(self, day) -> TopicState:
        """What a daily run needs to carry `day`'s evidence to the next day (TopicState)."""
        today = day_numbers([day])[0]
        weight, earned = self._weights(today)
        sums = self.engine.key_sums(today, self.window, weight)
        in_window = (self.match_day > today - self.window) & (self.match_day <= today)
        rows = self.matches.loc[in_window, ["post_id", "post_day", "person_id", "topic_slug", "strength"]]
        rows = rows.assign(earned=earned[in_window])
        said = day_numbers(self.mentions["event_day"])
        said = (said > today - self.window) & (said <= today) & self.mentions["person_id"].notna().to_numpy()
        pairs = self.mentions[said & self.mentions["post_id"].isin(rows["post_id"]).to_numpy()]
        pairs = pairs.groupby(["post_id", "person_id"], as_index=False, observed=True)["event_day"].max()
        held, topics = sums.count > 0, self.engine.roll_up.topics
        return TopicState(
            rows.reset_index(drop=True),
            pairs.rename(columns={"event_day": "last_day"}),
            key_sums_frame(
                self.engine.keys[held], KeySums(sums.limbs[held], sums.count[held]), self.engine.persons, topics
            ),
        )


def published_topics(evidence, day, rules: dict, profiles, edits, edit_day=None) -> pd.DataFrame:
    """The day's topics from its evidence: assigned, minors dropped, the profile edits applied."""
    edit_day = day_numbers(edits["edited_day"]) if edit_day is None else edit_day
    assigned = assign_topics(evidence, rules["expert_top_pct"], rules["min_evidence"])
    minors = minors_on(profiles, day)
    assigned = assigned[~assigned["person_id"].isin(minors)]
    todays_edits = edits[edit_day <= day_numbers([day])[0]]
    todays_edits = todays_edits[~todays_edits["person_id"].isin(minors)]
    profile = apply_profile_edits(assigned, todays_edits)
    todays = assigned.merge(profile, on=["person_id", "topic_slug"], how="right").assign(day=day)
    todays["evidence"] = todays["evidence"].astype(float)  # assign_topics rounded it; an added topic has none
    return todays


LIMB_COLUMNS = ["limb0", "limb1", "limb2"]


def key_sums_frame(keys: np.ndarray, sums: KeySums, persons: pd.Index, topics: pd.Index) -> pd.DataFrame:
    """person_id, topic_slug, limb0..2, terms of `keys` (person code x topics + topic code)."""
    person, topic = np.divmod(keys, len(topics))
    frame = pd.DataFrame({"person_id": persons[person], "topic_slug": topics[topic]})
    frame[LIMB_COLUMNS] = sums.limbs
    frame["terms"] = sums.count
    return frame


class TopicState:
    """One day's topic evidence as a daily run carries it to the next day.

    `rows`: the window's match rows (post_id, post_day, person_id the author, topic_slug, strength)
    with `earned`, each post's reactions through the day; `pairs`: post_id, person_id (mentioned),
    last_day, each person mentioned in a window post with the last day of those mentions; `keys`:
    person_id, topic_slug, each key's exact sum (limb0..2) and number of terms (KeySums)."""

    def __init__(self, rows: pd.DataFrame, pairs: pd.DataFrame, keys: pd.DataFrame | None = None):
        self.rows, self.pairs, self.keys = rows, pairs, keys

    def next_day(
        self, day, window: int, matches: pd.DataFrame, reacted: pd.DataFrame, mentions: pd.DataFrame
    ) -> tuple[TopicState, TopicState]:
        """(before, after): the rows and pairs of these posts (the touched ones: leaving the window,
        reacted to or mentioned `day`) as they were the day before, and on `day` with `day`'s
        `matches` (new posts: post_id, post_day, person_id, topic_slug, strength), `reacted`
        (post_id, reactions) and `mentions` (post_id, person_id, event_day) applied. Posts given
        needlessly cancel out; a touched post left out would be carried wrong."""
        today = day_numbers([day])[0]
        before = TopicState(self.rows, self.pairs[day_numbers(self.pairs["last_day"]) > today - 1 - window])
        new_rows = matches[["post_id", "post_day", "person_id", "topic_slug", "strength"]].assign(earned=0.0)
        rows = pd.concat([self.rows, new_rows], ignore_index=True)
        got = reacted.groupby("post_id")["reactions"].sum()
        rows["earned"] = rows["earned"].to_numpy(dtype=float) + rows["post_id"].map(got).fillna(0).to_numpy(dtype=float)
        rows = rows[day_numbers(rows["post_day"]) > today - window].reset_index(drop=True)
        said = mentions[mentions["person_id"].notna()].rename(columns={"event_day": "last_day"})
        pairs = pd.concat([self.pairs.astype({"person_id": str}), said.astype({"person_id": str})], ignore_index=True)
        pairs = pairs.groupby(["post_id", "person_id"], as_index=False)["last_day"].max()
        pairs = pairs[(day_numbers(pairs["last_day"]) > today - window) & pairs["post_id"].isin(rows["post_id"])]
        return before, TopicState(rows, pairs.reset_index(drop=True))


def post_terms(rows: pd.DataFrame, pairs: pd.DataFrame, slugs, rules: dict) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """(person_id, topic_slug, value) of every evidence term of posts' match `rows` (with `earned`)
    and their mention `pairs`: the terms WindowEvidence.key_sums adds, by the same operations."""
    rows = rows[rows["person_id"].notna() & rows["topic_slug"].isin(list(slugs))]
    weight = rows["strength"].to_numpy(dtype=float) * engagement_factor(
        rows["earned"].to_numpy(dtype=float), rules["engagement_floor"]
    )
    mentioned = pairs[["post_id", "person_id"]].rename(columns={"person_id": "mentioned"})
    via = rows[["post_id", "person_id", "topic_slug"]].assign(weight=weight).merge(mentioned, on="post_id")
    via = via[via["mentioned"].notna() & (via["mentioned"].astype(str) != via["person_id"].astype(str))]
    person = pd.concat([rows["person_id"].astype(str), via["mentioned"].astype(str)], ignore_index=True)
    topic = pd.concat([rows["topic_slug"].astype(str), via["topic_slug"].astype(str)], ignore_index=True)
    return person, topic, np.concatenate([weight, via["weight"].to_numpy(dtype=float) * rules["mention_weight"]])


def carried_evidence(
    keys: pd.DataFrame, before: TopicState, after: TopicState, ontology: Ontology, rules: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the keys whose sums changed, the next day's evidence) from a day's key sums `keys`, minus
    the terms of the touched posts as they were (`before`: their rows and pairs) plus their terms
    as they are now (`after`: what entered, earned reactions or mentions, or stayed). The changed
    keys are key sums (`key_sums_frame`), 0 terms for a key that has none left. Exact, so the
    evidence equals a whole window's (WindowEvidence) to the last bit."""
    slugs = sorted(ontology.slugs)
    old_person, old_topic, old_value = post_terms(before.rows, before.pairs, slugs, rules)
    new_person, new_topic, new_value = post_terms(after.rows, after.pairs, slugs, rules)
    person_code, persons = sorted_codes(keys["person_id"].astype(str), old_person, new_person)
    topics = pd.Index(slugs)
    topic_code = np.concatenate([positions_in(topics, t) for t in (keys["topic_slug"], old_topic, new_topic)])
    if (topic_code < 0).any():
        raise StaleTopicState("the carried topic evidence names a topic outside the ontology")
    number, found = sorted_unique(person_code * len(topics) + topic_code, len(persons) * len(topics))
    n_kept, n_old = len(keys), len(old_value)
    limbs = np.zeros((len(found), 3))
    count = np.zeros(len(found), dtype=np.int64)
    limbs[number[:n_kept]] = keys[LIMB_COLUMNS].to_numpy(dtype=float)
    count[number[:n_kept]] = keys["terms"].to_numpy(dtype=np.int64)
    gone = KeySums.of(number[n_kept : n_kept + n_old], old_value, len(found))
    came = KeySums.of(number[n_kept + n_old :], new_value, len(found))
    sums = KeySums(limbs - gone.limbs + came.limbs, count - gone.count + came.count)
    if (sums.count < 0).any() or (sums.limbs < 0).any():
        raise StaleTopicState("the carried topic evidence went below zero: it is not the day before's")
    changed = (gone.count > 0) | (came.count > 0)
    changed_keys = key_sums_frame(found[changed], KeySums(sums.limbs[changed], sums.count[changed]), persons, topics)
    held = sums.count > 0
    sums, found = KeySums(sums.limbs[held], sums.count[held]), found[held]
    evidence = RollUp(found, len(persons), ontology, rules["rollup_decay"]).frame(sums.value(), held[held], persons)
    return changed_keys, evidence
