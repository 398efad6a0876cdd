"""The history plot: points on a fixed 1..100 axis, one point still drawn, no history a note."""

from __future__ import annotations

import re
from datetime import date, timedelta

from web import plots


def _polyline(svg: str) -> list[tuple[float, float]]:
    points = re.search(r'<polyline id="history-plot" class="history-line"[^>]* points="([^"]+)"', svg).group(1)
    return [tuple(float(v) for v in p.split(",")) for p in points.split()]


def test_points_scale_to_the_plot_area():
    start = date(2026, 9, 1)
    history = [(start, 1.0), (start + timedelta(days=1), 100.0), (start + timedelta(days=2), 50.5)]
    pts = plots.history_points(history)
    xs, ys = [x for x, _ in pts], [y for _, y in pts]
    assert xs[0] == plots.LEFT and xs[-1] == plots.WIDTH - plots.RIGHT
    assert xs[1] == (xs[0] + xs[2]) / 2  # days spread evenly
    assert ys[0] == plots.HEIGHT - plots.BOTTOM  # score 1 at the bottom
    assert ys[1] == plots.TOP  # score 100 at the top
    assert ys[2] == (ys[0] + ys[1]) / 2  # 50.5 halfway
    assert _polyline(plots.history_svg(history)) == pts


def test_scores_outside_1_100_are_clamped_to_the_axis():
    ys = [y for _, y in plots.history_points([("a", -5.0), ("b", 250.0)])]
    assert ys == [plots.HEIGHT - plots.BOTTOM, plots.TOP]


def test_one_point_is_drawn_with_a_visible_width():
    svg = plots.history_svg([(date(2026, 11, 28), 42.0)])
    (x0, y0), (x1, y1) = _polyline(svg)
    assert x1 > x0 and y0 == y1
    assert "2026-11-28" in svg


def test_empty_history_is_a_note_not_a_plot():
    out = plots.history_svg([])
    assert "<svg" not in out and "No score history" in out


def test_axes_label_days_and_the_score_range():
    svg = plots.history_svg([(date(2026, 9, 1), 10.0), (date(2026, 11, 28), 20.0)])
    for label in ("2026-09-01", "2026-11-28", ">1<", ">100<"):
        assert label in svg


def test_text_in_the_svg_is_escaped():
    svg = plots.history_svg([("<b>day</b>", 10.0)], title='<script>alert("t")</script>')
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&lt;b&gt;day&lt;/b&gt;" in svg
