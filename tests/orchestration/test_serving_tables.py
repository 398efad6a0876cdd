"""The serving snapshot's Python-computed rows: the discounts each person's score carries."""

from __future__ import annotations

import pandas as pd

from orchestration.serving_tables import discounts, kplus_points


def test_discounts_are_one_row_per_person_and_kind_that_took_points():
    scores = pd.DataFrame(
        {
            "person_id": ["ann", "bob", "cy"],
            "score": [40.0, 30.0, 20.0],
            "ring_discount_points": [4.1, 0.0, None],
            "indiscriminate_discount_points": [0.0, 0.25, None],
            "kplus_clique_discount_points": [0.3, 0.0, None],
        }
    )
    rows = discounts(scores)
    assert list(rows.itertuples(index=False, name=None)) == [
        ("ann", "ring", 4.1),
        ("ann", "kplus_clique", 0.3),
        ("bob", "indiscriminate", 0.25),
    ]
    v1 = discounts(scores[["person_id", "score"]])  # a formula without discounts: none, with the columns
    assert v1.empty and list(v1.columns) == ["person_id", "kind", "points"]


def test_kplus_points_are_one_row_per_person_kplus_moved():
    scores = pd.DataFrame(
        {"person_id": ["ann", "bob", "cy"], "score": [40.5, 30.0, 20.0], "kplus_points": [0.5, 0.0, None]}
    )
    assert list(kplus_points(scores).itertuples(index=False, name=None)) == [("ann", 0.5)]
    assert kplus_points(scores.drop(columns=["kplus_points"])).empty  # v1: +K off, no column
