"""+K: a person vouching for someone's influence in a topic, under anti-gaming rules.

Every give is either accepted or rejected with one reason, never dropped, so the ledger can be
audited. +K only moves a score when the formula version enables it, and then only up to a cap.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .ontology import Ontology, load_default_ontology

# Checked in this order; a give is rejected with the first rule it breaks.
REJECT_REASONS = ("unknown_topic", "self_give", "topic_not_on_profile", "cooldown", "daily_limit")
GIVE_COLUMNS = ["give_id", "giver_person_id", "recipient_person_id", "topic_slug", "given_at"]


def kplus_ledger(
    gives: pd.DataFrame,
    profile_topics: pd.DataFrame,
    *,
    max_per_giver_per_day: int = 10,
    cooldown_days: float = 7,
    history: pd.DataFrame | None = None,
    ontology: Ontology | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accepted, rejected): `gives` split by the +K rules, in order of (given_at, give_id).

    `gives`: give_id, giver_person_id, recipient_person_id, topic_slug, given_at (tz-aware).
    `profile_topics`: person_id, topic_slug (the recipients' visible topics).
    `history`: gives accepted before this batch (same columns); they start cooldowns and count
    towards the daily limit of their UTC day.
    A give is rejected for a topic outside the ontology, to oneself, for a topic not on the
    recipient's profile, within `cooldown_days` of an accepted give of the same giver to the same
    recipient in the same topic, or once the giver already has `max_per_giver_per_day` accepted
    gives that UTC day. Only accepted gives spend the daily allowance or start a cooldown.
    `rejected` carries a `reason` from REJECT_REASONS; accepted and rejected partition `gives`.
    """
    ontology = ontology or load_default_ontology()
    _require_tz(gives["given_at"], "gives.given_at")
    if gives["give_id"].duplicated().any():
        raise ValueError(f"duplicate give_id(s): {sorted(gives.loc[gives['give_id'].duplicated(), 'give_id'])[:5]}")
    g = gives.sort_values(["given_at", "give_id"], kind="stable")
    on_profile = pd.MultiIndex.from_frame(profile_topics[["person_id", "topic_slug"]])

    reason = pd.Series(None, index=g.index, dtype=object)
    reason[~g["topic_slug"].isin(ontology.slugs)] = "unknown_topic"
    reason[reason.isna() & (g["giver_person_id"] == g["recipient_person_id"])] = "self_give"
    listed = pd.MultiIndex.from_arrays([g["recipient_person_id"], g["topic_slug"]]).isin(on_profile)
    reason[reason.isna() & ~listed] = "topic_not_on_profile"

    # Cooldowns and allowances depend on what was accepted before, so walk the valid gives in order.
    cooldown = pd.Timedelta(days=cooldown_days)
    last_accepted: dict[tuple, pd.Timestamp] = {}
    spent: dict[tuple, int] = {}
    if history is not None and len(history):
        _require_tz(history["given_at"], "history.given_at")
        h = history.sort_values(["given_at", "give_id"], kind="stable")
        for giver, recipient, topic, at in zip(
            h["giver_person_id"], h["recipient_person_id"], h["topic_slug"], h["given_at"]
        ):
            last_accepted[(giver, recipient, topic)] = at
            day = at.tz_convert("UTC").date()
            spent[(giver, day)] = spent.get((giver, day), 0) + 1
    valid = g[reason.isna()]
    for idx, giver, recipient, topic, at in zip(
        valid.index, valid["giver_person_id"], valid["recipient_person_id"], valid["topic_slug"], valid["given_at"]
    ):
        previous = last_accepted.get((giver, recipient, topic))
        day = at.tz_convert("UTC").date()
        if previous is not None and at - previous < cooldown:
            reason[idx] = "cooldown"
        elif spent.get((giver, day), 0) >= max_per_giver_per_day:
            reason[idx] = "daily_limit"
        else:
            last_accepted[(giver, recipient, topic)] = at
            spent[(giver, day)] = spent.get((giver, day), 0) + 1

    accepted = g[reason.isna()].reset_index(drop=True)
    rejected = g[reason.notna()].assign(reason=reason[reason.notna()]).reset_index(drop=True)
    return accepted, rejected


def kplus_points(
    accepted: pd.DataFrame,
    day: date,
    window_days: int = 90,
    enabled: bool = False,
    cap: float = 0.0,
    points_per_give: float = 0.1,
) -> pd.DataFrame:
    """person_id, kplus_count, score_adjustment: accepted +K received in the `window_days`
    UTC days ending `day`. The adjustment is points_per_give per +K up to `cap`, and 0 unless
    the formula enables +K (kplus.enabled / kplus.max_points)."""
    cols = ["person_id", "kplus_count", "score_adjustment"]
    recent = accepted[in_window(accepted["given_at"], day, window_days)]
    if recent.empty:
        return pd.DataFrame(columns=cols)
    out = recent.groupby("recipient_person_id").size().rename("kplus_count").reset_index()
    out = out.rename(columns={"recipient_person_id": "person_id"})
    out["kplus_count"] = out["kplus_count"].astype(int)
    out["score_adjustment"] = np.minimum(out["kplus_count"] * points_per_give, cap) if enabled else 0.0
    return out[cols].sort_values("person_id", ignore_index=True)


def in_window(given_at: pd.Series, day: date, window_days: int) -> pd.Series:
    """True for timestamps on the `window_days` UTC days ending with `day` (inclusive)."""
    if given_at.empty:
        return pd.Series(False, index=given_at.index)
    _require_tz(given_at, "given_at")
    days = given_at.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    last = pd.Timestamp(day)
    return (days <= last) & (days > last - pd.Timedelta(days=window_days))


def _require_tz(ts: pd.Series, name: str) -> None:
    if len(ts) and getattr(ts.dt, "tz", None) is None:
        raise ValueError(f"{name} must be timezone-aware (UTC days decide the daily limit)")


def gives_by_day(gives: pd.DataFrame, days) -> dict:
    """day -> that day's gives (without given_day), for each of `days` in order: each day's
    cooldowns see the days before it."""
    give_day = pd.to_datetime(gives["given_day"]).dt.date if len(gives) else pd.Series(dtype=object)
    gives = gives.drop(columns="given_day")
    return {day: gives[(give_day == day).to_numpy(dtype=bool)].reset_index(drop=True) for day in days}
