"""Synthetic scenarios for the score's property tests: events and posts -> fct_features_90d rows.

An independent pandas oracle of the dbt feature definitions, small enough to read at a glance.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.dbt_project import feature_knobs

AS_OF = date(2026, 6, 30)


def events_frame(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """rows: (reactor, target, network, days_ago)."""
    return pd.DataFrame(
        [
            {"reactor_person_id": r, "target_person_id": t, "network": n, "event_day": AS_OF - timedelta(days=ago)}
            for r, t, n, ago in rows
        ],
        columns=["reactor_person_id", "target_person_id", "network", "event_day"],
    )


def posts_frame(posts: dict[tuple[str, str], list[int]], as_of: date = AS_OF) -> pd.DataFrame:
    """posts: (person, network) -> days_ago of each post, as `Warehouse.window_posts` reads them."""
    made = pd.Series([(p, n, as_of - timedelta(days=a)) for (p, n), ages in posts.items() for a in ages])
    counts = made.value_counts()
    return pd.DataFrame(
        [(p, n, d, c) for (p, n, d), c in counts.items()], columns=["person_id", "network", "day", "posts_made"]
    )


def features_from(
    events: pd.DataFrame,
    posts: dict[tuple[str, str], list[int]],
    as_of: date = AS_OF,
    counted: dict[tuple[str, str], list[tuple[int, int, int]]] | None = None,
) -> pd.DataFrame:
    """posts: (person, network) -> list of days_ago of each post; counted: (person, network) ->
    (days_ago, anonymous reactions, views) that day, the counts the APIs give without names."""
    counted = counted or {}
    knobs = feature_knobs()
    hl, window, exponent = knobs["half_life_days"], knobs["window_days"], knobs["selectivity_exponent"]
    ev = events.copy()
    ev["age"] = [(as_of - d).days for d in ev["event_day"]]
    ev = ev[(ev["age"] >= 0) & (ev["age"] < window)]
    given = ev.groupby(["reactor_person_id", "event_day"])["target_person_id"].transform("size")
    ev["sel"] = 1.0 / np.power(given.clip(lower=1), exponent)
    ev["decay"] = np.power(0.5, ev["age"] / hl)
    keys = set(posts) | set(counted) | set(zip(ev["target_person_id"], ev["network"]))
    rows = []
    for person, network in sorted(keys):
        mine = ev[(ev["target_person_id"] == person) & (ev["network"] == network)]
        ages = [a for a in posts.get((person, network), []) if 0 <= a < window]
        decayed_posts = float(sum(0.5 ** (a / hl) for a in ages))
        decayed_reactions = float(mine["decay"].sum())
        last = mine.groupby("reactor_person_id")["age"].min()
        seen = [(a, n, v) for a, n, v in counted.get((person, network), []) if 0 <= a < window]
        rows.append(
            {
                "person_id": person,
                "network": network,
                "as_of_day": pd.Timestamp(as_of),
                "engaged_audience_90d": len(last),
                "decayed_engaged_audience": float(np.power(0.5, last / hl).sum()),
                "decayed_reactions": decayed_reactions,
                "decayed_posts": decayed_posts,
                "reactions_per_post": decayed_reactions / decayed_posts if decayed_posts else 0.0,
                "unique_reactor_share": len(last) / len(mine) if len(mine) else 0.0,
                "selectivity_weighted_engagement": float((mine["sel"] * mine["decay"]).sum()),
                "decayed_anonymous_reactions": float(sum(n * 0.5 ** (a / hl) for a, n, _ in seen)),
                "decayed_views": float(sum(v * 0.5 ** (a / hl) for a, _, v in seen)),
                "reactions_90d": len(mine),
                "posts_90d": len(ages),
                "audience_size": 0,
            }
        )
    return pd.DataFrame(rows)
