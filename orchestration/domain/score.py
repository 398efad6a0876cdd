"""The influence score: per-network subscores, accumulation across networks, calibration.

Every strength term is non-negative and non-decreasing in engagement, and networks add up, so
more engagement never lowers a score and a new network can only raise it. The calibrated scale
is logarithmic in strength: each further point needs proportionally more influence.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from .formula import Formula

SUBSCORES = ("reach", "amplification", "network_impact")


def decay(age_days: np.ndarray | pd.Series, half_life_days: float) -> np.ndarray:
    return np.power(0.5, np.asarray(age_days, dtype=float) / float(half_life_days))


def selectivity_weight(reactions_given: np.ndarray | pd.Series, exponent: float) -> np.ndarray:
    """A reactor who hands out many reactions in a day gives each one less weight."""
    return 1.0 / np.power(np.maximum(np.asarray(reactions_given, dtype=float), 1.0), exponent)


def engagement_edges(events: pd.DataFrame, as_of: date, formula: Formula) -> pd.DataFrame:
    """reactor -> author edges of the window ending `as_of`, weighted by selectivity and recency.

    `events` has reactor_person_id, target_person_id, network, event_day.
    """
    f = formula.section("features")
    as_of_ts = pd.Timestamp(as_of)
    days = pd.to_datetime(events["event_day"])
    age = (as_of_ts - days).dt.days
    window = events.loc[(age >= 0) & (age < f["window_days"])].copy()
    if window.empty:
        return pd.DataFrame(columns=["reactor_person_id", "target_person_id", "network", "weight"])
    window["age"] = age[window.index]
    given = window.groupby(["reactor_person_id", "event_day"])["target_person_id"].transform("size")
    window["weight"] = selectivity_weight(given, f["selectivity_exponent"]) * decay(window["age"], f["half_life_days"])
    return (
        window.groupby(["reactor_person_id", "target_person_id", "network"], as_index=False)["weight"].sum()
    )


def network_influence(edges: pd.DataFrame, damping: float, tolerance: float, max_iterations: int) -> tuple[pd.DataFrame, pd.Series]:
    """PageRank over the reactor -> author graph, unnormalised (every person starts at 1 - d).

    Returns the influence flowing along each edge (reactor_person_id, target_person_id, network,
    flow) and each person's rank. Incoming flow only adds, so engagement from anyone, however
    low their own rank, never subtracts.
    """
    if edges.empty:
        return pd.DataFrame(columns=["reactor_person_id", "target_person_id", "network", "flow"]), pd.Series(dtype=float)
    persons = pd.Index(pd.unique(pd.concat([edges["reactor_person_id"], edges["target_person_id"]])))
    src = persons.get_indexer(edges["reactor_person_id"])
    dst = persons.get_indexer(edges["target_person_id"])
    w = edges["weight"].to_numpy(dtype=float)
    n = len(persons)
    out_weight = np.bincount(src, weights=w, minlength=n)
    share = w / out_weight[src]
    transition_t = sparse.csr_matrix((share, (dst, src)), shape=(n, n))
    rank = np.ones(n)
    for _ in range(max_iterations):
        updated = (1.0 - damping) + damping * (transition_t @ rank)
        converged = np.abs(updated - rank).sum() < tolerance * n
        rank = updated
        if converged:
            break
    flows = edges[["reactor_person_id", "target_person_id", "network"]].copy()
    flows["flow"] = damping * share * rank[src]
    return flows, pd.Series(rank, index=persons, name="rank")


def influence_graph(flows: pd.DataFrame, top_n: int = 5) -> pd.DataFrame:
    """For each person, the top people they influence (whose reactions carry their influence
    onward) and the top people who influence them, by influence flow across all networks."""
    pair = flows.groupby(["reactor_person_id", "target_person_id"], as_index=False)["flow"].sum()
    influences = pair.rename(columns={"target_person_id": "person_id", "reactor_person_id": "other_person_id"})
    influenced_by = pair.rename(columns={"reactor_person_id": "person_id", "target_person_id": "other_person_id"})
    parts = []
    for direction, frame in (("influences", influences), ("influenced_by", influenced_by)):
        frame = frame.sort_values(["person_id", "flow", "other_person_id"], ascending=[True, False, True])
        frame["rank"] = frame.groupby("person_id").cumcount() + 1
        frame = frame[frame["rank"] <= top_n]
        frame.insert(1, "direction", direction)
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    out["flow"] = out["flow"].round(9)
    return out[["person_id", "direction", "rank", "other_person_id", "flow"]]


def network_subscores(features: pd.DataFrame, flows: pd.DataFrame, formula: Formula) -> pd.DataFrame:
    """Reach, amplification and network subscores per (person, network) for one day."""
    weights = formula.section("subscores")
    df = features.merge(flows, on=["person_id", "network"], how="left")
    df["network_flow"] = df["network_flow"].fillna(0.0)
    rpp = df["reactions_per_post"].astype(float).clip(lower=0)
    df["reach"] = weights["reach"] * df["decayed_engaged_audience"].astype(float).clip(lower=0)
    # ratio beats volume: the same engagement spread over fewer posts counts more
    df["amplification"] = weights["amplification"] * df["selectivity_weighted_engagement"].astype(float).clip(lower=0) * (rpp / (1.0 + rpp))
    df["network_impact"] = weights["network_impact"] * df["network_flow"]
    df["strength"] = df[list(SUBSCORES)].sum(axis=1)
    return df


def calibrate(strength: np.ndarray | pd.Series, calibration: dict) -> np.ndarray:
    """Strength -> 1..100: linear in ln(1 + strength), softly capped so the top is exponentially harder."""
    z = calibration["intercept"] + calibration["slope"] * np.log1p(np.maximum(np.asarray(strength, dtype=float), 0.0))
    cap = calibration["soft_cap_from"]
    head = 100.0 - (100.0 - cap) * np.exp(-(z - cap) / (100.0 - cap))
    return np.clip(np.where(z > cap, head, z), 1.0, 100.0)


def fit_calibration(strength: np.ndarray, target_mean: float, target_p95: float, soft_cap_from: float) -> dict:
    """Fit intercept and slope so the reference population averages `target_mean` with p95 at `target_p95`."""
    x = np.log1p(np.maximum(np.asarray(strength, dtype=float), 0.0))
    spread = max(np.percentile(x, 95) - x.mean(), 1e-9)
    slope0 = (target_p95 - target_mean) / spread
    start = [target_mean - slope0 * x.mean(), slope0]

    def residual(params):
        cal = {"intercept": params[0], "slope": params[1], "soft_cap_from": soft_cap_from}
        s = calibrate(np.expm1(x), cal)
        return [s.mean() - target_mean, np.percentile(s, 95) - target_p95]

    fit = optimize.least_squares(residual, start, bounds=([-200.0, 1e-6], [200.0, 200.0]))
    return {"intercept": float(fit.x[0]), "slope": float(fit.x[1]), "soft_cap_from": soft_cap_from}


def day_flows(events: pd.DataFrame, as_of: date, formula: Formula) -> pd.DataFrame:
    """Influence flow along each reactor -> author edge of the window ending `as_of`."""
    ni = formula.section("network_influence")
    flows, _ = network_influence(engagement_edges(events, as_of, formula), ni["damping"], ni["tolerance"], ni["max_iterations"])
    return flows


def score_day(features: pd.DataFrame, events: pd.DataFrame, as_of: date, formula: Formula) -> pd.DataFrame:
    """Scores for one as-of day: one row per person, with per-network subscores and contributions.

    `features` are fct_features_90d rows for `as_of`; `events` are engagement events covering
    the window ending `as_of`.
    """
    flows = day_flows(events, as_of, formula)
    inflow = flows.groupby(["target_person_id", "network"], as_index=False)["flow"].sum()
    inflow = inflow.rename(columns={"target_person_id": "person_id", "flow": "network_flow"})
    per_network = network_subscores(features, inflow, formula)
    strength = per_network.groupby("person_id")["strength"].sum()
    score = pd.Series(calibrate(strength.to_numpy(), formula.section("calibration")), index=strength.index)
    per_network["contribution"] = (
        per_network["strength"] / per_network["person_id"].map(strength).replace(0.0, np.nan)
    ).fillna(0.0) * per_network["person_id"].map(score)
    wide = per_network.pivot_table(
        index="person_id", columns="network", values=[*SUBSCORES, "contribution"], aggfunc="sum", fill_value=0.0
    )
    wide.columns = [f"{network}_{metric}" for metric, network in wide.columns]
    out = wide.round(9).reset_index()
    out.insert(1, "day", pd.Timestamp(as_of).date())
    out.insert(2, "formula_version", formula.version)
    out.insert(3, "score", out["person_id"].map(score).round(2))
    out.insert(4, "strength", out["person_id"].map(strength).round(9))
    return out.sort_values("person_id", ignore_index=True)


def score_changes(today: pd.DataFrame, yesterday: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
    """Delta since yesterday and the contributions that moved most: "why your score changed"."""
    reasons_cols = [c for c in today.columns if any(c.endswith(f"_{s}") for s in SUBSCORES)]
    merged = today.merge(yesterday, on=["person_id", "formula_version"], how="left", suffixes=("", "_prev"))
    merged["score_prev"] = merged["score_prev"].astype(float)
    rows = []
    for rec in merged.itertuples(index=False):
        rec = rec._asdict()
        moves = {c: rec[c] - (rec.get(f"{c}_prev") or 0.0) for c in reasons_cols}
        top = sorted(moves.items(), key=lambda kv: -abs(kv[1]))[:top_n]
        rows.append(
            {
                "person_id": rec["person_id"],
                "day": rec["day"],
                "formula_version": rec["formula_version"],
                "score": rec["score"],
                "previous_score": rec["score_prev"],
                "delta": None if pd.isna(rec["score_prev"]) else round(rec["score"] - rec["score_prev"], 2),
                "top_reasons": "; ".join(f"{name} {value:+.2f}" for name, value in top if value != 0) or "no change",
            }
        )
    out = pd.DataFrame(rows)
    # nullable floats, not objects: a first day (no yesterday) must still create DOUBLE columns
    return out.astype({"previous_score": "Float64", "delta": "Float64"}) if len(out) else out
