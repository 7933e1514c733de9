# ruff: noqa: E501  (SVG markup reads best one element per line)
"""Server-rendered SVG (no JavaScript, no CDN): a geographic single-line plot of a network and day charts."""

from collections.abc import Sequence
from html import escape

import numpy as np


def _percent(value: float) -> str:
    return f"{value:.0f} %" if np.isfinite(value) else ""


def _colour(value: float, low: float, high: float) -> str:
    if not np.isfinite(value):
        return "#999999"
    t = float(np.clip((value - low) / (high - low), 0.0, 1.0))
    red = int(40 + 215 * t)
    green = int(160 * (1 - t) + 40)
    return f"#{red:02x}{green:02x}40"


def network_svg(
    *,
    bus_xy: dict[int, tuple[float, float]],
    branches: Sequence[tuple[int, int, str, float]],
    bus_values: dict[int, float] | None = None,
    width: int = 800,
    height: int = 600,
    title: str = "",
) -> str:
    """Buses at their coordinates, branches as segments coloured by loading (green 0 % → red ≥ 100 %);
    buses coloured by voltage deviation when `bus_values` (vm_pu) are given. `branches`: (bus, bus, label, loading %)."""
    if not bus_xy:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60"><text x="10" y="30">No bus coordinates to plot.</text></svg>'
    xs = np.array([p[0] for p in bus_xy.values()])
    ys = np.array([p[1] for p in bus_xy.values()])
    pad = 20
    span_x = max(xs.max() - xs.min(), 1e-9)
    span_y = max(ys.max() - ys.min(), 1e-9)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad - 20) / span_y)

    def at(bus: int) -> tuple[float, float]:
        x, y = bus_xy[bus]
        return pad + (x - xs.min()) * scale, height - pad - (y - ys.min()) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    parts.append(f'<text x="{pad}" y="16" font-size="13" font-family="sans-serif">{escape(title)}</text>')
    for a, b, label, loading in branches:
        if a in bus_xy and b in bus_xy:
            (x1, y1), (x2, y2) = at(a), at(b)
            colour = _colour(loading, 0.0, 100.0) if np.isfinite(loading) else "#607080"
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="1.5">'
                f"<title>{escape(label)} {_percent(loading)}</title></line>"
            )
    radius = 2.5 if len(bus_xy) < 500 else 1.0
    for bus in bus_xy:
        x, y = at(bus)
        value = (bus_values or {}).get(bus, np.nan)
        colour = _colour(abs(value - 1.0), 0.0, 0.1) if np.isfinite(value) else "#334455"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"><title>bus {bus}</title></circle>'
        )
    parts.append("</svg>")
    return "".join(parts)


def day_chart_svg(
    *,
    series: dict[str, Sequence[float]],
    labels: Sequence[str],
    width: int = 800,
    height: int = 260,
    title: str = "",
) -> str:
    """Lines of each named series over the steps (own y scale per chart), with a legend."""
    colours = ["#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd"]
    pad_left, pad, top = 50, 20, 30
    values = np.array(
        [v for s in series.values() for v in s if v is not None and np.isfinite(v)] or [0.0, 1.0]
    )
    low, high = min(0.0, float(values.min())), float(values.max()) or 1.0
    steps = max(len(labels), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
    ]
    parts.append(f'<text x="{pad_left}" y="16" font-size="13">{escape(title)}</text>')
    x0, x1, y0, y1 = pad_left, width - pad, height - pad - 10, top

    def px(i: int) -> float:
        return x0 + (x1 - x0) * i / (steps - 1)

    def py(v: float) -> float:
        return y0 - (y0 - y1) * (v - low) / ((high - low) or 1.0)

    parts.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#444"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#444"/>'
    )
    parts.append(f'<text x="4" y="{y1 + 4}">{high:.2f}</text><text x="4" y="{y0}">{low:.2f}</text>')
    for i in range(0, len(labels), max(1, len(labels) // 8)):
        parts.append(f'<text x="{px(i) - 12:.1f}" y="{height - 8}">{escape(labels[i])}</text>')
    for k, (name, data) in enumerate(series.items()):
        colour = colours[k % len(colours)]
        points = " ".join(
            f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(data) if v is not None and np.isfinite(v)
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        parts.append(f'<text x="{x1 - 160}" y="{top + 14 * k}" fill="{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
