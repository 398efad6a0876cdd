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
    profile_topics: pd.DataFrame | None,
    *,
    max_per_giver_per_day: int = 10,
    cooldown_days: float = 7,
    history: pd.DataFrame | None = None,
    ontology: Ontology | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accepted, rejected): `gives` split by the +K rules, in order of (given_at, give_id).

    `gives`: give_id, giver_person_id, recipient_person_id, topic_slug, given_at (tz-aware), and
    any further columns, carried along (e.g. given_day).
    `profile_topics`: person_id, topic_slug (the recipients' visible topics); or None when `gives`
    carries a boolean `on_profile` (whether the topic was on the recipient's profile that day, so
    gives of many days are judged in one walk). `on_profile` is not in the output.
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
    if profile_topics is None:
        listed = g["on_profile"].to_numpy(dtype=bool)
        g = g.drop(columns="on_profile")
    else:
        on_profile = pd.MultiIndex.from_frame(profile_topics[["person_id", "topic_slug"]])
        listed = pd.MultiIndex.from_arrays([g["recipient_person_id"], g["topic_slug"]]).isin(on_profile)

    reason = np.full(len(g), None, dtype=object)
    reason[~g["topic_slug"].isin(ontology.slugs).to_numpy(dtype=bool)] = "unknown_topic"
    self_give = (g["giver_person_id"] == g["recipient_person_id"]).to_numpy(dtype=bool)
    reason[pd.isna(reason) & self_give] = "self_give"
    reason[pd.isna(reason) & ~listed] = "topic_not_on_profile"

    # Cooldowns and allowances depend on what was accepted before, so walk the valid gives in order
    # (over plain ints: nanoseconds since the epoch and UTC day numbers, the same comparisons).
    cooldown = pd.Timedelta(days=cooldown_days).value
    last_accepted: dict[tuple, int] = {}
    spent: dict[tuple, int] = {}
    if history is not None and len(history):
        _require_tz(history["given_at"], "history.given_at")
        h = history.sort_values(["given_at", "give_id"], kind="stable")
        at_ns, day = _ns_and_utc_day(h["given_at"])
        for giver, recipient, topic, at, d in zip(
            h["giver_person_id"].tolist(), h["recipient_person_id"].tolist(), h["topic_slug"].tolist(), at_ns, day
        ):
            last_accepted[(giver, recipient, topic)] = at
            spent[(giver, d)] = spent.get((giver, d), 0) + 1
    valid = np.flatnonzero(pd.isna(reason))
    at_ns, day = _ns_and_utc_day(g["given_at"].iloc[valid])
    givers, recipients, topics = (g[c].to_numpy(dtype=object)[valid].tolist() for c in GIVE_COLUMNS[1:4])
    for i, giver, recipient, topic, at, d in zip(valid.tolist(), givers, recipients, topics, at_ns, day):
        previous = last_accepted.get((giver, recipient, topic))
        if previous is not None and at - previous < cooldown:
            reason[i] = "cooldown"
        elif spent.get((giver, d), 0) >= max_per_giver_per_day:
            reason[i] = "daily_limit"
        else:
            last_accepted[(giver, recipient, topic)] = at
            spent[(giver, d)] = spent.get((giver, d), 0) + 1

    kept = reason == None  # noqa: E711
    accepted = g[kept].reset_index(drop=True)
    rejected = g[~kept].assign(reason=pd.array(reason[~kept], dtype="str")).reset_index(drop=True)
    return accepted, rejected


def _ns_and_utc_day(given_at: pd.Series) -> tuple[list[int], list[int]]:
    """Each timestamp as nanoseconds since the epoch and as its UTC day number."""
    if not len(given_at):
        return [], []
    ns = np.asarray(given_at.dt.as_unit("ns").array.asi8, dtype=np.int64)  # UTC-based whatever the zone
    return ns.tolist(), (ns // 86_400_000_000_000).tolist()


def kplus_points(
    accepted: pd.DataFrame,
    day: date,
    window_days: int = 90,
    enabled: bool = False,
    cap: float = 0.0,
    points_per_give: float = 0.1,
    weight: str | None = None,
) -> pd.DataFrame:
    """person_id, kplus_count, score_adjustment: accepted +K received in the `window_days`
    UTC days ending `day`. The adjustment is points_per_give per +K up to `cap`, and 0 unless
    the formula enables +K (kplus.enabled / kplus.max_points). `weight`: a column of each give's
    weight in [0, 1] (a clique's give counts 1 - its discount); None: every give counts 1."""
    cols = ["person_id", "kplus_count", "score_adjustment"]
    recent = accepted[in_window(accepted["given_at"], day, window_days)]
    if recent.empty:
        return pd.DataFrame(columns=cols)
    grouped = recent.groupby("recipient_person_id")
    out = grouped.size().rename("kplus_count").reset_index()
    out = out.rename(columns={"recipient_person_id": "person_id"})
    out["kplus_count"] = out["kplus_count"].astype(int)
    counted = out["kplus_count"] if weight is None else grouped[weight].sum().to_numpy(dtype=float)
    out["score_adjustment"] = np.minimum(counted * points_per_give, cap) if enabled else 0.0
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
