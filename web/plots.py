"""Server-drawn SVG: the 90-day score history as a polyline, no JavaScript and nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 30
SCORE_MIN, SCORE_MAX = 1.0, 100.0


def _x(i: int, n: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner / 2 if n == 1 else inner * i / (n - 1))


def _y(score: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    clamped = min(max(score, SCORE_MIN), SCORE_MAX)
    return round(TOP + inner * (SCORE_MAX - clamped) / (SCORE_MAX - SCORE_MIN), 2)


def history_points(history: Sequence[tuple[date | str, float]]) -> list[tuple[float, float]]:
    """Pixel coordinates of each (day, score), days in the given order spread evenly across the
    plot and scores on a fixed 1..100 axis (so two profiles' plots compare by eye)."""
    n = len(history)
    return [(round(_x(i, n), 2), round(_y(float(score)), 2)) for i, (_, score) in enumerate(history)]


def history_svg(history: Sequence[tuple[date | str, float]], title: str = "Score over the last 90 days") -> str:
    """An inline SVG of the history (oldest first), or a 'no history' note when there is none.

    Every text in it is escaped: the caller may pass a title naming a stranger."""
    if not history:
        return '<p class="no-history">No score history yet.</p>'
    pts = history_points(history)
    x0, x1 = LEFT, WIDTH - RIGHT
    y_top, y_bottom = _y(SCORE_MAX), _y(SCORE_MIN)
    first_day, last_day = escape(str(history[0][0])), escape(str(history[-1][0]))
    line = " ".join(f"{x},{y}" for x, y in pts)
    if len(pts) == 1:  # one point: a visible tick so the polyline has a box
        (x, y) = pts[0]
        line = f"{x - 3},{y} {x + 3},{y}"
    last_x, last_y = pts[-1]
    grid = "".join(
        f'<line class="grid" x1="{x0}" y1="{_y(s)}" x2="{x1}" y2="{_y(s)}"/>'
        f'<text class="tick" x="{x0 - 6}" y="{_y(s) + 4}" text-anchor="end">{s}</text>'
        for s in (1, 25, 50, 75, 100)
    )
    return (
        f'<svg class="history" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f"{grid}"
        f'<line class="axis" x1="{x0}" y1="{y_top}" x2="{x0}" y2="{y_bottom}"/>'
        f'<line class="axis" x1="{x0}" y1="{y_bottom}" x2="{x1}" y2="{y_bottom}"/>'
        f'<text class="tick" x="{x0}" y="{HEIGHT - 8}" text-anchor="start">{first_day}</text>'
        f'<text class="tick" x="{x1}" y="{HEIGHT - 8}" text-anchor="end">{last_day}</text>'
        f'<polyline id="history-plot" class="history-line" fill="none" points="{line}"/>'
        f'<circle class="history-last" cx="{last_x}" cy="{last_y}" r="3"/>'
        "</svg>"
    )
