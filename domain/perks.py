"""Perk eligibility: which people a brand's campaign may offer a perk to on a given day.

Brands only ever see who qualified (id, display name, rank and score): never contact details,
birth dates or locations. Minors and people who opted out are never offered anything.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .people import adults_on

COLUMNS = ["campaign_id", "person_id", "display_name", "rank", "score"]


def perk_eligibility(
    campaigns: pd.DataFrame,
    persons: pd.DataFrame,
    scores: pd.DataFrame,
    profile_topics: pd.DataFrame,
    day: date,
) -> pd.DataFrame:
    """campaign_id, person_id, display_name, rank, score: who each running campaign may offer to.

    Eligible when all hold: `day` is within [starts_on, ends_on]; the person has one of the
    campaign's topics on their profile (if it lists any); score >= min_score; their location is
    one of the campaign's (if it lists any); they are 18 or older on `day`; they have not opted
    out. The top `capacity` by score (ties by person_id) are kept, ranked 1..capacity.
    """
    people = persons[~persons["opted_out"].astype(bool)]
    people = people[adults_on(people["birth_date"], day)]
    people = people.merge(scores[["person_id", "score"]], on="person_id")

    out = []
    for c in running_on(campaigns, day).itertuples(index=False):
        ok = people["score"] >= c.min_score
        wanted = wanted_topics([c.topics])
        if wanted:
            on_topic = profile_topics.loc[profile_topics["topic_slug"].isin(wanted), "person_id"]
            ok &= people["person_id"].isin(on_topic)
        wanted_places = set(_as_list(c.locations))
        if wanted_places:
            ok &= people["location"].isin(wanted_places)
        chosen = (
            people.loc[ok, ["person_id", "display_name", "score"]]
            .sort_values(["score", "person_id"], ascending=[False, True])
            .head(int(c.capacity))
        )
        out.append(chosen.assign(campaign_id=c.campaign_id, rank=range(1, len(chosen) + 1)))
    if not out:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(out, ignore_index=True)[COLUMNS]


def running_on(campaigns: pd.DataFrame, day: date) -> pd.DataFrame:
    """The campaigns whose [starts_on, ends_on] includes `day`."""
    running = [
        _as_date(start) <= day <= _as_date(end) for start, end in zip(campaigns["starts_on"], campaigns["ends_on"])
    ]
    return campaigns[np.asarray(running, dtype=bool)]


def wanted_topics(topic_lists) -> list[str]:
    """Every topic in campaigns' `topics` lists (a campaign that lists none wants any topic)."""
    return sorted({topic for topics in topic_lists for topic in _as_list(topics)})


def _as_date(value) -> date:
    return pd.Timestamp(value).date() if not isinstance(value, date) or hasattr(value, "hour") else value


def _as_list(value) -> list:
    if value is None or (not isinstance(value, (list, tuple, set, frozenset)) and not hasattr(value, "__len__")):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)
