"""What a step reports in its materialisation metadata, computed beside the step's loop."""

from __future__ import annotations

import numpy as np
import pandas as pd


def markdown_table(frame: pd.DataFrame, empty: str = "empty") -> str:
    return frame.to_markdown(index=False) if len(frame) else empty


def bullet_list(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines) or "none"


class RunningScores:
    """The scores a step wrote, day by day, summarised once at the end (mean, p95, rows)."""

    def __init__(self):
        self.scores: list[np.ndarray] = []
        self.graph_rows = 0

    def add(self, graph_rows: int, scored: pd.DataFrame) -> None:
        self.graph_rows += graph_rows
        if len(scored):
            self.scores.append(scored["score"].to_numpy())

    def metadata(self) -> dict:
        result = pd.Series(np.concatenate(self.scores) if self.scores else np.zeros(0))
        return {
            "rows": len(result),
            "mean_score": float(result.mean()) if len(result) else 0.0,
            "p95_score": float(result.quantile(0.95)) if len(result) else 0.0,
        }
