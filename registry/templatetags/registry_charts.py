"""Server-rendered inline SVG line charts of a metric across versions (no JS library)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from .registry_tags import jinja

register = template.Library()

WIDTH, HEIGHT = 560, 170
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 28
# Past this many points, per-point markers add weight without adding information.
MARKER_LIMIT = 60


def _fmt(value: float) -> str:
    return format(value, ".4g") if abs(value) < 1e5 else format(value, ",.0f")


@register.simple_tag
def metric_chart(title: str, points: list[dict[str, Any]], index: int) -> SafeString:
    """`points` are {"version", "label", "value", "higher_is_better"} ordered by version.
    Rendered with Jinja2 (registry/_metric_chart.jinja): a model page draws up to 24
    charts of up to 60 points, each point a marker with its own label."""
    return jinja("registry/_metric_chart.jinja", **_chart(title, points, index))


def _chart(title: str, points: list[dict[str, Any]], index: int) -> dict[str, Any]:
    numbers = [p["version"] for p in points]
    values = [p["value"] for p in points]
    lo, hi = min(values), max(values)
    if lo == hi:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    first, last = numbers[0], numbers[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(n: int) -> float:
        if first == last:
            return LEFT + plot_w / 2
        return round(LEFT + (n - first) / (last - first) * plot_w, 1)

    def y(v: float) -> float:
        return round(TOP + (hi - v) / (hi - lo) * plot_h, 1)

    coords = [(x(p["version"]), y(p["value"]), p) for p in points]
    higher_is_better = points[-1]["higher_is_better"]
    best = (max if higher_is_better else min)(points, key=lambda p: p["value"])
    # The SVG's coordinates go in as text, formatted once here.
    return {
        "chart_id": f"chart-{index}",
        "title": title,
        "width": str(WIDTH),
        "height": str(HEIGHT),
        "left": str(LEFT),
        "tick_x": str(LEFT - 6),
        "right_edge": str(WIDTH - RIGHT),
        "top": str(TOP),
        "bottom": str(HEIGHT - BOTTOM),
        "middle": str(TOP + plot_h / 2),
        "label_y": str(HEIGHT - 8),
        "hi": _fmt(hi),
        "lo": _fmt(lo),
        "mid": _fmt((hi + lo) / 2),
        "polyline": " ".join(f"{cx},{cy}" for cx, cy, _ in coords),
        "markers": coords if len(coords) <= MARKER_LIMIT else [],
        "first": points[0],
        "latest": points[-1],
        "best": best,
        "higher_is_better": higher_is_better,
        "count": len(points),
    }
