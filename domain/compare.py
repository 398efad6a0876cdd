"""Compare two formula versions' scores: what a data engineer shows before switching."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .score import SUBSCORES


def compare_versions(baseline: pd.DataFrame, candidate: pd.DataFrame, top_n: int = 10) -> tuple[dict, pd.DataFrame]:
    """(summary, movers) for one day: rank correlation, both distributions, and the biggest
    movers with the subscore contributions that moved them."""
    both = baseline.merge(candidate, on="person_id", suffixes=("_baseline", "_candidate"))
    summary = {
        "persons": len(both),
        "only_in_baseline": int((~baseline["person_id"].isin(candidate["person_id"])).sum()),
        "only_in_candidate": int((~candidate["person_id"].isin(baseline["person_id"])).sum()),
        "spearman": float(stats.spearmanr(both["score_baseline"], both["score_candidate"]).statistic)
        if len(both) > 2
        else float("nan"),
    }
    for name, frame in (("baseline", baseline), ("candidate", candidate)):
        s = frame["score"].to_numpy(dtype=float)
        summary.update(
            {
                f"{name}_mean": float(s.mean()),
                f"{name}_p50": float(np.percentile(s, 50)),
                f"{name}_p95": float(np.percentile(s, 95)),
                f"{name}_max": float(s.max()),
            }
        )
    both["delta"] = both["score_candidate"] - both["score_baseline"]
    parts = sorted(
        {
            c.removesuffix("_baseline")
            for c in both.columns
            if c.endswith("_baseline") and any(c.removesuffix("_baseline").endswith(f"_{s}") for s in SUBSCORES)
        }
    )
    movers = both.reindex(both["delta"].abs().sort_values(ascending=False).index).head(top_n)
    reasons = []
    for _, row in movers.iterrows():
        # each part's share of the score, before and after: what the new weights emphasise
        shares = {p: _share(row, p, "candidate") - _share(row, p, "baseline") for p in parts}
        top = sorted(shares.items(), key=lambda kv: -abs(kv[1]))[:3]
        reasons.append("; ".join(f"{p} share {v:+.0%}" for p, v in top if abs(v) > 1e-9) or "calibration only")
    out = movers[["person_id", "score_baseline", "score_candidate", "delta"]].assign(reasons=reasons)
    out["rank"] = range(1, len(out) + 1)
    return summary, out.reset_index(drop=True)


def _share(row: pd.Series, part: str, side: str) -> float:
    strength = row.get(f"strength_{side}") or 0.0
    return float(row.get(f"{part}_{side}", 0.0) or 0.0) / strength if strength else 0.0


def compare_days(
    rows: pd.DataFrame, baseline: str, candidate: str, days, top_n: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(summary per day, top movers per day, days missing a version's scores) over `rows` (the
    scores of both versions, with day and formula_version)."""
    summaries, movers, missing = [], [], []
    for day in days:
        todays = rows[rows["day"] == day]
        base, cand = (
            todays[todays["formula_version"] == v].drop(columns=["day", "formula_version"])
            for v in (baseline, candidate)
        )
        if base.empty or cand.empty:
            missing.append(f"{day}: no scores for {baseline if base.empty else candidate}; materialise them first")
            continue
        summary, top = compare_versions(base, cand, top_n)
        keys = {"day": day, "baseline": baseline, "candidate": candidate}
        summaries.append({**keys, **summary})
        movers.append(top.assign(**keys))
    return pd.DataFrame(summaries), (pd.concat(movers, ignore_index=True) if movers else pd.DataFrame()), missing
