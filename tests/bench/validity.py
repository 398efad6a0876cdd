"""Validity of the score (issue 21): does it predict what it claims to measure better than follower counts?

On a bench world with a known truth (`worldgen.truth_frames`: every person's latent ability, archetype
and rings), for as-of days D every `STEP` days from the window's start + `LEAD` (a full-ish feature
window behind D) to its end - `HORIZON` (a full future behind it), the Spearman correlation over the
persons scored on D of each predictor with each target:

- predictors: each formula version's score (`score_<version>`), `log_followers` (ln(1 + the audience
  summed over networks, `fct_features_90d.audience_size`), `raw_reactions` (`reactions_90d` summed) and
  `pagerank` (the first version's PageRank alone, `cache.pagerank_ranks`);
- targets: `ability` (the truth), `future_actors` (distinct people acting on the person's posts over
  (D, D + HORIZON], from `intermediate.int_engagement_events`) and `genuine_future_actors` (the same
  without reactors the truth marks as bots, and without reactors in the person's own engagement ring):
  the outcome a score should predict and the headline.

The pure functions below take frames, so a unit test can check them on a hand-made world; `measure`
reads a warehouse and the truth files.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

LEAD, STEP, HORIZON = 29, 7, 30
BASELINES = ("log_followers", "raw_reactions", "pagerank")
TARGETS = ("ability", "future_actors", "genuine_future_actors")
HEADLINE = "genuine_future_actors"
MARGIN = 0.2  # the score's rho must beat log(followers)'s by this much (issue 21)
# an imported log's truth: nobody's ability, archetype or ring is known
NO_TRUTH = pd.DataFrame({"key": pd.Series(dtype=str), "ability": [], "archetype": [], "ring_id": []})


def as_of_days(first: date, last: date, step: int = STEP, lead: int = LEAD, horizon: int = HORIZON) -> list[date]:
    """D = first + lead, every `step` days, while D + horizon <= last (the future is in the world)."""
    days, day = [], first + timedelta(days=lead)
    while day + timedelta(days=horizon) <= last:
        days.append(day)
        day += timedelta(days=step)
    return days


def genuine_events(events: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """`events` less those by a reactor the truth marks `bot`, and those between two members of one
    engagement ring. `truth` is keyed by `key` (any person key the warehouse uses); unknown keys
    (nobody in the world) are kept."""
    t = truth.drop_duplicates("key").set_index("key")
    reactor_kind = events.reactor_person_id.map(t.archetype)
    reactor_ring = events.reactor_person_id.map(t.ring_id).astype("Float64")
    target_ring = events.target_person_id.map(t.ring_id).astype("Float64")
    same_ring = (reactor_ring == target_ring).fillna(False).to_numpy(dtype=bool)
    bot = (reactor_kind == "bot").to_numpy(dtype=bool)
    return events[~bot & ~same_ring]


def future_actors(events: pd.DataFrame, day: date, horizon: int = HORIZON) -> pd.Series:
    """target_person_id -> distinct reactor_person_id with an event in (day, day + horizon]."""
    d = pd.to_datetime(events.event_day)
    lo, hi = pd.Timestamp(day), pd.Timestamp(day + timedelta(days=horizon))
    inside = events[(d > lo) & (d <= hi)]
    pairs = inside[["target_person_id", "reactor_person_id"]].drop_duplicates()
    return pairs.groupby("target_person_id").size()


def day_frame(
    scores: dict[str, pd.Series],
    features: pd.DataFrame,
    pagerank: pd.Series,
    truth: pd.DataFrame,
    events: pd.DataFrame,
    genuine: pd.DataFrame,
    day: date,
    horizon: int = HORIZON,
) -> pd.DataFrame:
    """One as-of day's persons (scored on `day` by every version in `scores`: person_id -> score) with
    every predictor and target as columns. `features`: person_id, network, audience_size,
    reactions_90d of that day; `pagerank`: person_id -> rank (absent: 0)."""
    frame = pd.concat({f"score_{v}": s for v, s in scores.items()}, axis=1, join="inner")
    per_person = features.groupby("person_id")[["audience_size", "reactions_90d"]].sum(min_count=1)
    frame["log_followers"] = np.log1p(per_person.audience_size.reindex(frame.index).fillna(0).astype(float))
    frame["raw_reactions"] = per_person.reactions_90d.reindex(frame.index).fillna(0).astype(float)
    frame["pagerank"] = pagerank.reindex(frame.index).fillna(0.0).astype(float)
    ability = truth.drop_duplicates("key").set_index("key").ability
    frame["ability"] = ability.reindex(frame.index).astype(float)
    frame["future_actors"] = future_actors(events, day, horizon).reindex(frame.index).fillna(0).astype(float)
    frame["genuine_future_actors"] = future_actors(genuine, day, horizon).reindex(frame.index).fillna(0).astype(float)
    return frame


def spearman_rows(frame: pd.DataFrame, day: date, predictors: list[str], targets=TARGETS) -> list[dict]:
    """(day, predictor, target, rho, n) for each pair, over the rows where both are known; rho is None
    when either side is constant (Spearman undefined)."""
    rows = []
    for target in targets:
        for predictor in predictors:
            both = frame[[predictor, target]].dropna()
            constant = len(both) < 3 or both[predictor].nunique() < 2 or both[target].nunique() < 2
            rho = None if constant else float(spearmanr(both[predictor], both[target]).statistic)
            rows.append(
                {
                    "day": str(day),
                    "predictor": predictor,
                    "target": target,
                    "rho": None if rho is None else round(rho, 4),
                    "n": len(both),
                }
            )
    return rows


def mean_over_days(rows: list[dict]) -> list[dict]:
    """(predictor, target, mean rho over the days it is defined, days) in first-seen order."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return []
    order = {k: i for i, k in enumerate(dict.fromkeys(zip(frame.predictor, frame.target)))}
    out = []
    for (predictor, target), g in frame.groupby(["predictor", "target"], sort=False):
        rhos = g.rho.dropna()
        out.append(
            {
                "predictor": predictor,
                "target": target,
                "mean_rho": round(float(rhos.mean()), 4) if len(rhos) else None,
                "days": len(rhos),
            }
        )
    return sorted(out, key=lambda r: order[(r["predictor"], r["target"])])


def score_stats(scores: pd.Series) -> dict:
    """Mean and p95 of a version's scores (the calibration's two numbers) on one day."""
    values = scores.dropna().astype(float)
    return {
        "persons": len(values),
        "mean": round(float(values.mean()), 2) if len(values) else None,
        "p95": round(float(values.quantile(0.95)), 2) if len(values) else None,
    }


def verdict(means: list[dict], versions: list[str], target: str = HEADLINE, margin: float = MARGIN) -> dict:
    """The issue's target on `target`, judged for the best version present (highest mean rho): its
    rho >= log_followers' + margin and > raw_reactions'. None when a rho is missing."""
    rho = {(m["predictor"], m["target"]): m["mean_rho"] for m in means}
    scored = {v: rho.get((f"score_{v}", target)) for v in versions}
    known = {v: r for v, r in scored.items() if r is not None}
    followers, raw = rho.get(("log_followers", target)), rho.get(("raw_reactions", target))
    if not known or followers is None or raw is None:
        return {"version": None, "target": target, "pass": None}
    best = max(known, key=known.get)
    return {
        "version": best,
        "target": target,
        "score_rho": known[best],
        "log_followers_rho": followers,
        "raw_reactions_rho": raw,
        "margin": round(known[best] - followers, 4),
        "pass": bool(known[best] >= followers + margin and known[best] > raw),
    }


def measure(warehouse: str, truth: pd.DataFrame, first: date, last: date, versions: list[str]) -> dict:
    """Read the scores, features, PageRank and events of a built bench warehouse (`versions` scored over
    [first, last], the first one's PageRank kept) and measure every as-of day."""
    import duckdb

    days = as_of_days(first, last)
    with duckdb.connect(warehouse, read_only=True) as conn:
        events = conn.execute(
            "select reactor_person_id, target_person_id, event_day from intermediate.int_engagement_events"
            " where event_day between ? and ?",
            [first, last],
        ).df()
        scores = conn.execute(
            "select person_id, day, formula_version, score from marts.scores"
            " where formula_version in (select unnest(?::varchar[])) and day between ? and ?",
            [versions, first, last],
        ).df()
        features = conn.execute(
            "select person_id, network, as_of_day, audience_size, reactions_90d from marts.fct_features_90d"
            " where as_of_day in (select unnest(?::date[]))",
            [days],
        ).df()
        ranks = conn.execute(
            "select person_id, day, rank from cache.pagerank_ranks where formula_version = ?"
            " and day in (select unnest(?::date[]))",
            [versions[0], days],
        ).df()
    genuine = genuine_events(events, truth)
    scores["day"] = pd.to_datetime(scores.day).dt.date
    features["as_of_day"] = pd.to_datetime(features.as_of_day).dt.date
    ranks["day"] = pd.to_datetime(ranks.day).dt.date
    predictors = [f"score_{v}" for v in versions] + list(BASELINES)
    rows, populations = [], {}
    for day in days:
        by_version = {
            v: scores[(scores.formula_version == v) & (scores.day == day)].set_index("person_id").score
            for v in versions
        }
        pr = ranks[ranks.day == day].set_index("person_id")["rank"]
        frame = day_frame(by_version, features[features.as_of_day == day], pr, truth, events, genuine, day)
        populations[str(day)] = len(frame)
        rows += spearman_rows(frame, day, predictors)
    means = mean_over_days(rows)
    stats = {
        v: score_stats(scores[(scores.formula_version == v) & (scores.day == last)].score) | {"day": str(last)}
        for v in versions
    }
    return {
        "as_of_days": [str(d) for d in days],
        "versions": versions,
        "predictors": predictors,
        "targets": list(TARGETS),
        "persons_scored": populations,
        "events": len(events),
        "genuine_events": len(genuine),
        "rows": rows,
        "mean": means,
        "score_stats": stats,
        "verdict": verdict(means, versions),
    }
