"""Comparing two formula versions: the biggest movers, explained in score points."""

from __future__ import annotations

import pandas as pd
import pytest

from domain.compare import compare_versions


def scores(rows: dict[str, tuple[float, float, float]], **discounts: list[float]) -> pd.DataFrame:
    """rows: person -> (score, mastodon_reach, mastodon_network_impact)."""
    frame = pd.DataFrame(
        [
            {"person_id": p, "score": score, "mastodon_reach": reach, "mastodon_network_impact": impact}
            for p, (score, reach, impact) in rows.items()
        ]
    )
    return frame.assign(strength=frame["mastodon_reach"] + frame["mastodon_network_impact"], **discounts)


def test_movers_are_explained_by_the_points_each_subscore_moved_not_by_shares():
    baseline = scores({"ann": (40.0, 3.0, 1.0), "bob": (30.0, 2.0, 2.0), "cy": (10.0, 1.0, 0.0)})
    candidate = scores({"ann": (46.0, 3.0, 3.0), "bob": (31.0, 2.0, 6.0), "cy": (10.0, 1.0, 0.0)})
    _, movers = compare_versions(baseline, candidate, top_n=2)
    assert movers["person_id"].tolist() == ["ann", "bob"] and movers["rank"].tolist() == [1, 2]
    # ann: reach 40 x 3/4 = 30 -> 46 x 3/6 = 23; network impact 10 -> 23
    assert movers.loc[0, "reasons"] == "mastodon network impact +13.00 points; mastodon reach -7.00 points"
    # bob: reach 15 -> 7.75, network impact 15 -> 23.25; the moves add up to the delta
    assert movers.loc[1, "reasons"] == "mastodon network impact +8.25 points; mastodon reach -7.25 points"
    assert "share" not in " ".join(movers["reasons"])


def test_a_candidates_discount_is_a_reason_in_points():
    baseline = scores({"ann": (40.0, 3.0, 1.0), "bob": (30.0, 2.0, 2.0)})
    candidate = scores(
        {"ann": (36.0, 3.0, 1.0), "bob": (30.0, 2.0, 2.0)},
        ring_discount_points=[4.1, 0.0],
        indiscriminate_discount_points=[0.0, 0.0],
    )
    _, movers = compare_versions(baseline, candidate, top_n=1)
    assert movers.loc[0, "delta"] == pytest.approx(-4.0)
    assert movers.loc[0, "reasons"] == (
        "engagement-ring discount -4.10 points; mastodon reach -3.00 points; mastodon network impact -1.00 points"
    )


def test_the_candidates_kplus_points_are_a_reason_and_not_in_the_subscores():
    baseline = scores({"ann": (40.0, 3.0, 1.0)})
    candidate = scores({"ann": (42.5, 3.0, 1.0)}).assign(kplus_points=[2.5])
    _, movers = compare_versions(baseline, candidate, top_n=1)
    assert movers.loc[0, "reasons"] == "accepted +K +2.50 points"
