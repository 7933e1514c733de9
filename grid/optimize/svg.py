"""Small server-rendered SVG line charts (no JavaScript, no CDN) for the admin."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def line_chart_svg(
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    x_labels: Sequence[str] = (),
    title: str = "",
    unit: str = "kW",
    width: int = 720,
    height: int = 260,
) -> str:
    """One SVG with a line per series over a shared x axis, a zero line, y ticks and a legend."""
    left, right, top, bottom = 56, 12, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _name, data in series for v in data]
    if not values:
        empty = '<text x="8" y="24">no data</text>'
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40">{empty}</svg>'
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    if high - low < 1e-9:
        high = low + 1.0
    count = max(len(data) for _name, data in series)

    def x(i: int) -> float:
        return left + plot_w * (i / max(count - 1, 1))

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>',
    ]
    for k in range(5):
        v = low + (high - low) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    parts.append(f'<text x="4" y="{top + 10}">{escape(unit)}</text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888"/>')
    if x_labels:
        step = max(len(x_labels) // 8, 1)
        for i in range(0, len(x_labels), step):
            label = escape(x_labels[i])
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">{label}</text>'
            )
    for k, (name, data) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(data))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{points}"/>')
        lx = left + 8 + k * 150
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{color}"/>')
        parts.append(f'<text x="{lx + 16}" y="{height - 9}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
