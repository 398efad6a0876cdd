"""tests/bench/validity.py on hand-made frames whose Spearman correlations are known."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.bench import validity as v

D = date(2026, 3, 1)


def _truth() -> pd.DataFrame:
    """Five people: a..d ordinary (d and e in engagement ring 1), b a bot; c also known by an account key."""
    rows = [
        ("a", "a", 4.0, "ordinary", None),
        ("b", "b", 0.0, "bot", None),
        ("c", "c", 3.0, "ordinary", None),
        ("mastodon:c1", "c", 3.0, "ordinary", None),
        ("d", "d", 2.0, "ordinary", 1),
        ("e", "e", 1.0, "ordinary", 1),
    ]
    frame = pd.DataFrame(rows, columns=["key", "person_id", "ability", "archetype", "ring_id"])
    return frame.astype({"ring_id": "Int64"})


def _events(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["reactor_person_id", "target_person_id", "event_day"])


def test_as_of_days_leave_a_full_future_behind_each_day():
    first = date(2026, 1, 1)
    days = v.as_of_days(first, first + timedelta(days=89))
    assert days[0] == first + timedelta(days=29)
    assert all(b - a == timedelta(days=7) for a, b in zip(days, days[1:]))
    assert days[-1] + timedelta(days=30) <= first + timedelta(days=89) < days[-1] + timedelta(days=37)
    assert v.as_of_days(first, first + timedelta(days=50)) == []


def test_future_actors_count_distinct_people_after_the_day_only():
    events = _events(
        [
            ("x", "a", D),  # on D itself: the past
            ("x", "a", D + timedelta(days=1)),
            ("x", "a", D + timedelta(days=2)),  # same reactor again
            ("y", "a", D + timedelta(days=30)),
            ("z", "a", D + timedelta(days=31)),  # past the horizon
            ("x", "c", D + timedelta(days=5)),
        ]
    )
    assert v.future_actors(events, D).to_dict() == {"a": 2, "c": 1}


def test_genuine_events_drop_bots_and_same_ring_reactors_only():
    events = _events(
        [
            ("b", "a", D),  # a bot
            ("d", "e", D),  # same ring
            ("e", "d", D),  # same ring
            ("d", "a", D),  # a ring member outside the ring counts
            ("mastodon:c1", "d", D),  # an account key resolves through the truth
            ("stranger", "a", D),  # unknown to the truth: kept
        ]
    )
    kept = v.genuine_events(events, _truth())
    assert list(zip(kept.reactor_person_id, kept.target_person_id)) == [
        ("d", "a"),
        ("mastodon:c1", "d"),
        ("stranger", "a"),
    ]


def test_spearman_rows_and_means_match_known_values():
    # perfect, reversed and constant predictors of one target
    frame = pd.DataFrame(
        {
            "up": [1.0, 2.0, 3.0, 4.0, 5.0],
            "down": [50.0, 40.0, 30.0, 20.0, 10.0],
            "flat": [1.0] * 5,
            "ability": [0.1, 0.2, 0.3, 0.4, np.nan],  # one unknown: n = 4
            "future_actors": [1.0, 2.0, 3.0, 5.0, 4.0],
            "genuine_future_actors": [1.0, 2.0, 3.0, 4.0, 5.0],
        },
        index=list("abcde"),
    )
    rows = v.spearman_rows(frame, D, ["up", "down", "flat"])
    rho = {(r["predictor"], r["target"]): (r["rho"], r["n"]) for r in rows}
    assert rho[("up", "genuine_future_actors")] == (1.0, 5)
    assert rho[("down", "genuine_future_actors")] == (-1.0, 5)
    assert rho[("flat", "genuine_future_actors")] == (None, 5)
    assert rho[("up", "ability")] == (1.0, 4)
    # one swapped pair in five: rho = 1 - 6 * 2 / (5 * 24) = 0.9
    assert rho[("up", "future_actors")] == (pytest.approx(0.9), 5)
    later = v.spearman_rows(frame.assign(up=frame.down), D + timedelta(days=7), ["up"], ["genuine_future_actors"])
    means = {(m["predictor"], m["target"]): m for m in v.mean_over_days(rows + later)}
    assert means[("up", "genuine_future_actors")]["mean_rho"] == 0.0  # (1 + -1) / 2
    assert means[("up", "genuine_future_actors")]["days"] == 2
    assert means[("flat", "genuine_future_actors")] == {
        "predictor": "flat",
        "target": "genuine_future_actors",
        "mean_rho": None,
        "days": 0,
    }


def test_day_frame_joins_predictors_and_targets_per_scored_person():
    scores = {"v1": pd.Series({"a": 50.0, "c": 30.0, "d": 10.0}), "v2": pd.Series({"a": 40.0, "c": 35.0})}
    features = pd.DataFrame(
        {
            "person_id": ["a", "a", "c"],
            "network": ["mastodon", "bluesky", "mastodon"],
            "audience_size": [10, 9, 0],
            "reactions_90d": [3, 4, 7],
        }
    )
    events = _events([("b", "a", D + timedelta(days=1)), ("x", "a", D + timedelta(days=2))])
    frame = v.day_frame(
        scores, features, pd.Series({"a": 0.5}), _truth(), events, v.genuine_events(events, _truth()), D
    )
    assert list(frame.index) == ["a", "c"]  # scored by both versions
    assert frame.loc["a", "log_followers"] == pytest.approx(np.log(20))
    assert frame.loc["a", "raw_reactions"] == 7 and frame.loc["c", "raw_reactions"] == 7
    assert frame.loc["c", "pagerank"] == 0.0 and frame.loc["a", "pagerank"] == 0.5
    assert frame.loc["a", "future_actors"] == 2 and frame.loc["a", "genuine_future_actors"] == 1
    assert frame.loc["c", "ability"] == 3.0


def test_verdict_needs_the_margin_over_followers_and_a_win_over_raw_reactions():
    def means(score, followers, raw):
        return [
            {"predictor": "score_v1", "target": v.HEADLINE, "mean_rho": score},
            {"predictor": "score_v2", "target": v.HEADLINE, "mean_rho": score - 0.1},
            {"predictor": "log_followers", "target": v.HEADLINE, "mean_rho": followers},
            {"predictor": "raw_reactions", "target": v.HEADLINE, "mean_rho": raw},
        ]

    ok = v.verdict(means(0.7, 0.5, 0.6), ["v1", "v2"])
    assert ok["pass"] is True and ok["version"] == "v1" and ok["margin"] == pytest.approx(0.2)
    assert v.verdict(means(0.69, 0.5, 0.6), ["v1", "v2"])["pass"] is False
    assert v.verdict(means(0.7, 0.3, 0.7), ["v1", "v2"])["pass"] is False
    assert v.verdict(means(0.7, None, 0.1), ["v1"])["pass"] is None


def test_score_stats():
    stats = v.score_stats(pd.Series([float(x) for x in range(1, 101)] + [np.nan]))
    assert stats == {"persons": 100, "mean": 50.5, "p95": pytest.approx(95.05)}


def _world(preset: str, score: float, followers: float) -> dict:
    days = ["2026-01-30", "2026-02-06"]
    rows = [
        {"day": d, "predictor": p, "target": t, "rho": r, "n": 100}
        for d in days
        for p, r in (("score_v1", score), ("log_followers", followers), ("raw_reactions", 0.1), ("pagerank", 0.2))
        for t in v.TARGETS
    ]
    means = v.mean_over_days(rows)
    return {
        "preset": preset,
        "persons": 5000,
        "days": 90,
        "first": "2026-01-01",
        "last": "2026-03-31",
        "interactions": 1234,
        "as_of_days": days,
        "versions": ["v1"],
        "predictors": ["score_v1", *v.BASELINES],
        "targets": list(v.TARGETS),
        "persons_scored": dict.fromkeys(days, 100),
        "rows": rows,
        "mean": means,
        "score_stats": {"v1": {"persons": 100, "mean": 40.0, "p95": 63.0, "day": "2026-03-31"}},
        "verdict": v.verdict(means, ["v1"]),
    }


def test_validity_alone_adds_its_section_and_target_to_the_committed_results():
    """`--only validity` merged into the committed docs: optional there (older results have none), its
    section and verdict appear, judged on the adversarial world only, and the rest is unchanged."""
    from tests.bench import report
    from tests.bench.test_bench_smoke import _committed_run

    full = _committed_run()
    full["stages"].pop("validity", None)
    before = report.markdown({**full, "summary": report.summarise(full)}, "docs/benchmarks.json")
    assert "### Validity (issue 21)" not in before
    partial = {
        "started_at": "20260101T000000Z",
        "argv": ["--only", "validity"],
        "machine": {"loadavg_at_start": [1.0, 1.0, 1.0]},
        "stages": {"validity": {"worlds": {"adversarial": _world("adversarial", 0.7, 0.4)}}},
    }
    merged = report.merge_stage(full, "validity", partial)
    after = report.markdown(merged, "docs/benchmarks.json")
    assert merged["summary"]["targets"]["validity"]["pass"] is True
    assert "### Validity (issue 21)" in after and "| score v1 | 0.700 | 0.700 | 0.700 |" in after
    assert "| log(1 + followers) | 0.400 | 0.400 | 0.400 |" in after
    assert "| v1 | 100 | 40.0 | 63.0 | 2026-03-31 |" in after
    assert merged["stages"]["backfill"] == full["stages"]["backfill"]
    outside = [line for line in after.split("### Validity (issue 21)")[0].splitlines() if "issue 21" not in line]
    assert outside == [line for line in before.splitlines() if "issue 21" not in line][: len(outside)]
    close = {"worlds": {"adversarial": _world("adversarial", 0.55, 0.4)}}
    assert (
        report.merge_stage(full, "validity", {**partial, "stages": {"validity": close}})["summary"]["targets"][
            "validity"
        ]["pass"]
        is False
    )  # beats followers by 0.15 only
    contrast = {"worlds": {"default": _world("default", 0.9, 0.1)}}
    alone = report.merge_stage(full, "validity", {**partial, "stages": {"validity": contrast}})
    assert alone["summary"]["targets"]["validity"]["pass"] is None  # the default world is not judged


@pytest.mark.slow
def test_an_exported_log_is_measured_through_the_bulk_importer(tmp_path):
    """The held-out path end to end on a small log: `export_log` writes a sandbox world in the
    importer's format, `validity_log_world` imports it into its own warehouse, builds and scores it,
    and measures it without a truth: every predictor but followers has a Spearman with the future
    actors, the truth's targets are undefined, and the report line says it is not judged."""
    from tests.bench import export_log, report, run

    log = export_log.main([str(tmp_path / "log.csv"), "--persons", "60", "--days", "61"])
    world = run.validity_log_world(log, tmp_path / "work", ["v1"], keep=False)  # the active version
    assert world["interactions"] > 10_000 and world["rejected"] == 0
    assert world["days"] >= 61 and len(world["as_of_days"]) == 1
    rho = {(m["predictor"], m["target"]): m["mean_rho"] for m in world["mean"]}
    for predictor in ("score_v1", "raw_reactions", "pagerank"):
        assert rho[(predictor, "future_actors")] is not None, predictor
    assert rho[("score_v1", "ability")] is None and rho[("log_followers", "future_actors")] is None
    assert world["verdict"]["pass"] is None
    line = report.validity_line(world)
    assert "held out" in line and "not judged" in line and "score v1" in line
    assert not (tmp_path / "work" / "warehouse.duckdb").exists()
