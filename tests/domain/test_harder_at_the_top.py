"""The calibrated scale is exponentially harder at the top: under v2 each further point needs more
extra engagement than the one before (log scale, then the soft cap above `soft_cap_from`)."""

from __future__ import annotations

from domain.score import EngagementEvents, score_day
from orchestration.formulas import load_formula

from .scenario import AS_OF, events_frame, features_from

V2 = load_formula("v2")
NET = "mastodon"
TARGETS = list(range(20, 100, 10))  # 20, 30, ..., 90


AGO = 60  # two half-lives back: a reactor is worth a quarter, so small scores need several


def score_with(reactors: int) -> float:
    """The score of an author who posted once, AGO days back, to a post `reactors` distinct people
    reacted to that day, each reacting to nothing else (no discount applies)."""
    events = events_frame([(f"fan{i}", "star", NET, AGO) for i in range(reactors)])
    features = features_from(events, {("star", NET): [AGO]})
    scored = score_day(features, EngagementEvents(events, V2).flows(AS_OF), AS_OF, V2)
    return float(scored.set_index("person_id").loc["star", "score"])


def reactors_needed(score: float, cache: dict[int, float]) -> int:
    """The fewest distinct reactors that reach `score`, by bisection (the score never falls as
    reactors are added)."""

    def at(n: int) -> float:
        if n not in cache:
            cache[n] = score_with(n)
        return cache[n]

    lo, hi = 0, 1  # at(lo) < score <= at(hi)
    while at(hi) < score:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if at(mid) >= score else (mid, hi)
    return hi


def test_each_further_point_needs_more_extra_engagement():
    cache = {0: 1.0}
    needed = [reactors_needed(s, cache) for s in TARGETS]
    per_point = [(b - a) / 10 for a, b in zip(needed, needed[1:])]
    for s, n in zip(TARGETS, needed):
        print(f"score {s}: {n} distinct reactors")
    print("extra reactors per +1 point, per band:", [round(p, 1) for p in per_point])
    assert needed == sorted(needed) and len(set(needed)) == len(needed), needed
    assert all(b > a for a, b in zip(per_point, per_point[1:])), per_point
    # the soft cap: a point in the 80s costs more than ten times one in the 20s
    assert per_point[-1] > 10 * per_point[0], per_point
