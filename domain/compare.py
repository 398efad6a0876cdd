"""Compare two formula versions' scores: what a data engineer shows before switching."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .score import discount_columns, reasons_text, score_reasons, subscore_columns


def compare_versions(baseline: pd.DataFrame, candidate: pd.DataFrame, top_n: int = 10) -> tuple[dict, pd.DataFrame]:
    """(summary, movers) for one day: rank correlation, both distributions, and the biggest
    movers with the reasons, in score points, that moved them: each (network, subscore)'s points
    in the candidate minus in the baseline, +K's points, and the points the discounts take (v2)."""
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
    movers = both.reindex(both["delta"].abs().sort_values(ascending=False).index).head(top_n)
    # the moves in score points, as "why your score changed" words them, with the candidate as today
    # and the baseline as yesterday: each (network, subscore)'s points, and the discounts' points
    columns = ["score", *sorted(set(subscore_columns(baseline)) | set(subscore_columns(candidate)))]
    columns += [c for c in ("kplus_points",) if c in baseline or c in candidate]
    columns += discount_columns(baseline, candidate)
    side = lambda frame: (  # noqa: E731
        frame.drop_duplicates("person_id").set_index("person_id").reindex(index=movers["person_id"], columns=columns)
    ).reset_index()
    reasons = reasons_text(score_reasons(side(candidate), side(baseline)), movers["person_id"])
    out = movers[["person_id", "score_baseline", "score_candidate", "delta"]].assign(reasons=reasons.to_numpy())
    out["rank"] = range(1, len(out) + 1)
    return summary, out.reset_index(drop=True)


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
