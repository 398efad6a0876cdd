"""The serving snapshot's Python-computed rows: the discounts each person's score carries."""

from __future__ import annotations

import pandas as pd

from orchestration.serving_tables import discounts


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
