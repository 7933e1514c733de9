"""A small server-rendered SVG chart of a forecast against actuals with its 80/95 % bands (no scripts)."""

from html import escape

import numpy as np
import pandas as pd

WIDTH, HEIGHT, PAD = 760, 260, 40


def forecast_svg(frame: pd.DataFrame, *, title: str = "", unit: str = "") -> str:
    """`frame` indexed by interval start with value, lower/upper_80/95 and optionally actual columns."""
    if frame.empty:
        return "<p>No forecast to draw.</p>"
    columns = [c for c in ("value", "lower_80", "upper_80", "lower_95", "upper_95", "actual") if c in frame]
    values = frame[columns].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high == low:
        high = low + 1.0
    n = len(frame)

    def x(i: int) -> float:
        return PAD + (WIDTH - 2 * PAD) * (i / max(n - 1, 1))

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * ((v - low) / (high - low))

    def line(series: np.ndarray) -> str:
        points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(series) if np.isfinite(v)]
        return " ".join(points)

    def band(lower: np.ndarray, upper: np.ndarray) -> str:
        ok = [i for i in range(n) if np.isfinite(lower[i]) and np.isfinite(upper[i])]
        top = [f"{x(i):.1f},{y(upper[i]):.1f}" for i in ok]
        bottom = [f"{x(i):.1f},{y(lower[i]):.1f}" for i in reversed(ok)]
        return " ".join(top + bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" style="background:#fff;font:11px sans-serif">',
        f'<text x="{PAD}" y="16">{escape(title)}</text>',
    ]
    if "lower_95" in frame:
        parts.append(
            f'<polygon points="{band(frame["lower_95"].to_numpy(float), frame["upper_95"].to_numpy(float))}" '
            'fill="#cfe3f7" stroke="none"><title>95 % band</title></polygon>'
        )
    if "lower_80" in frame:
        parts.append(
            f'<polygon points="{band(frame["lower_80"].to_numpy(float), frame["upper_80"].to_numpy(float))}" '
            'fill="#9cc5ee" stroke="none"><title>80 % band</title></polygon>'
        )
    parts.append(
        f'<polyline points="{line(frame["value"].to_numpy(float))}" fill="none" stroke="#1f5fa8" '
        'stroke-width="1.5"><title>forecast</title></polyline>'
    )
    if "actual" in frame:
        parts.append(
            f'<polyline points="{line(frame["actual"].to_numpy(float))}" fill="none" stroke="#c0392b" '
            'stroke-width="1.2"><title>actual</title></polyline>'
        )
    first, last = frame.index[0], frame.index[-1]
    parts += [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<text x="{PAD}" y="{HEIGHT - PAD + 16}">{first:%Y-%m-%d %H:%M}Z</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 16}" text-anchor="end">{last:%Y-%m-%d %H:%M}Z</text>',
        f'<text x="{PAD - 4}" y="{PAD}" text-anchor="end">{high:,.1f}</text>',
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" text-anchor="end">{low:,.1f}</text>',
        f'<text x="{WIDTH - PAD}" y="16" text-anchor="end">{escape(unit)} — blue: forecast with 80/95 % '
        "bands; red: actual</text>",
        "</svg>",
    ]
    return "".join(parts)
