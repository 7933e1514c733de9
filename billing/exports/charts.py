"""Inline SVG charts of a bill for the portal (server-rendered, no script)."""

from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from django.utils.safestring import SafeString, mark_safe

from billing.exports.formatting import MINOR_UNIT_SYMBOLS
from billing.selectors.invoice_charts import DailyUsage, RatePoint

# A narrow viewBox with large type: on a 390-px phone the chart scales to ~0.75 and its text stays ~10 px.
SVG_WIDTH, SVG_HEIGHT = 480, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 26, 32
_FONT = 13


def _empty_svg(label: str, message: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated value is escaped
        f'<svg class="chart" role="img" aria-label={quoteattr(label)} viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}"'
        f' width="100%" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{SVG_WIDTH / 2}" y="{SVG_HEIGHT / 2}" text-anchor="middle" fill="#6b7785">'
        f"{escape(message)}</text></svg>"
    )


def _axis(label: str, top_value: float, unit: str) -> str:
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    parts = [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#9aa5b1"/>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{SVG_WIDTH - _RIGHT}" y2="{_TOP + plot_h}"'
        ' stroke="#9aa5b1"/>',
    ]
    for fraction in (0, 0.5, 1):
        y = _TOP + plot_h * (1 - fraction)
        parts.append(
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="{_FONT}" fill="#52606d">'
            f"{top_value * fraction:.3g}</text>"
        )
    parts.append(
        f'<text x="4" y="11" font-size="{_FONT}" fill="#52606d">{escape(unit)}</text>'
        f"<title>{escape(label)}</title>"
    )
    return "".join(parts)


def usage_bar_svg(daily_usage: list[DailyUsage], estimated_days: frozenset | set = frozenset()) -> SafeString:
    """Consumption per day as bars (server-rendered SVG, no script); days with estimated readings are
    drawn hatched in another colour and say so in their tooltip."""
    label = "Consumption per day (kWh)"
    if not daily_usage:
        return _empty_svg(label, "No meter readings for this period.")
    top = max(float(d.energy_kwh) for d in daily_usage) or 1.0
    plot_w = SVG_WIDTH - _LEFT - _RIGHT
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(daily_usage)
    bars = []
    for i, point in enumerate(daily_usage):
        height = plot_h * float(point.energy_kwh) / top
        x = _LEFT + i * step + step * 0.1
        estimated = point.day in estimated_days
        bars.append(
            f'<rect class="bar{" estimated" if estimated else ""}" x="{x:.1f}"'
            f' y="{_TOP + plot_h - height:.1f}"'
            f' width="{step * 0.8:.1f}" height="{height:.1f}"'
            f' fill="{"url(#estimated-hatch)" if estimated else "#2f80c2"}"><title>{point.day:%d %b %Y}: '
            f"{escape(str(point.energy_kwh))} kWh{' (estimated)' if estimated else ''}</title></rect>"
        )
    first, last = daily_usage[0].day.strftime("%-d %b"), daily_usage[-1].day.strftime("%-d %b")
    legend = ""
    if estimated_days:
        legend = (
            '<defs><pattern id="estimated-hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
            ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#f5c27a"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a4b00" stroke-width="3"/></pattern></defs>'
            f'<rect x="{SVG_WIDTH - 120}" y="4" width="12" height="12" fill="url(#estimated-hatch)"/>'
            f'<text x="{SVG_WIDTH - 104}" y="15" font-size="{_FONT}" fill="#52606d">estimated</text>'
        )
    ticks = (
        f'<text x="{_LEFT}" y="{SVG_HEIGHT - 8}" font-size="{_FONT}" fill="#52606d">{first}</text>'
        f'<text x="{SVG_WIDTH - _RIGHT}" y="{SVG_HEIGHT - 8}" font-size="{_FONT}" text-anchor="end"'
        f' fill="#52606d">{last}</text>'
    )
    return mark_safe(  # noqa: S308 - every interpolated value is escaped or numeric
        f'<svg class="chart" id="usage-chart" role="img" aria-label={quoteattr(label)}'
        f' viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"{legend}{_axis(label, top, 'kWh')}{''.join(bars)}{ticks}</svg>"
    )


def rate_line_svg(
    rates: list[RatePoint],
    zone: str = "UTC",
    currency: str = "GBP",
    label: str = "Unit rate per interval",
    chart_id: str = "rate-chart",
) -> SafeString:
    """The unit rate per interval as a step line (server-rendered SVG, no script), in the currency's minor
    unit per kWh (p/kWh) where it has a usual symbol; local dates and times on the axis."""
    symbol = MINOR_UNIT_SYMBOLS.get(currency)
    scale = 100.0 if symbol else 1.0
    unit = f"{symbol}/kWh" if symbol else f"{currency}/kWh"
    if not rates:
        return _empty_svg(label, "No unit rates for this period.")
    top = max(float(r.unit_rate_per_kwh) * scale for r in rates)
    top = top if top > 0 else 1.0
    low = min(0.0, min(float(r.unit_rate_per_kwh) * scale for r in rates))
    span = top - low
    plot_w = SVG_WIDTH - _LEFT - _RIGHT
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(rates)
    points = []
    for i, rate in enumerate(rates):
        y = _TOP + plot_h * (1 - (float(rate.unit_rate_per_kwh) * scale - low) / span)
        points.append(f"{_LEFT + i * step:.1f},{y:.1f} {_LEFT + (i + 1) * step:.1f},{y:.1f}")
    local = ZoneInfo(zone)
    first = rates[0].valid_from.astimezone(local).strftime("%-d %b %H:%M")
    last = rates[-1].valid_from.astimezone(local).strftime("%-d %b %H:%M")
    ticks = (
        f'<text x="{_LEFT}" y="{SVG_HEIGHT - 8}" font-size="{_FONT}" fill="#52606d">{first}</text>'
        f'<text x="{SVG_WIDTH - _RIGHT}" y="{SVG_HEIGHT - 8}" font-size="{_FONT}" text-anchor="end"'
        f' fill="#52606d">{last}</text>'
    )
    return mark_safe(  # noqa: S308 - every interpolated value is numeric or a formatted date
        f'<svg class="chart" id={quoteattr(chart_id)} role="img" aria-label={quoteattr(label)}'
        f' viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"{_axis(label, top, unit)}"
        f'<polyline fill="none" stroke="#d9480f" stroke-width="1.5" points="{" ".join(points)}"/>'
        f"{ticks}</svg>"
    )


def bars_svg(
    chart_id: str, label: str, bars: list[tuple[str, float, bool]], first: str, last: str, unit: str = "kWh"
) -> SafeString:
    """Bars of (tooltip label, value, estimated) with the first and last label on the axis; estimated bars
    hatched, with a legend."""
    if not bars:
        return _empty_svg(label, "No meter readings for this period.")
    top = max(value for _, value, _ in bars) or 1.0
    plot_w = SVG_WIDTH - _LEFT - _RIGHT
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(bars)
    parts = []
    any_estimated = False
    for i, (title, value, estimated) in enumerate(bars):
        any_estimated |= estimated
        height = plot_h * value / top
        parts.append(
            f'<rect class="bar{" estimated" if estimated else ""}" x="{_LEFT + i * step + step * 0.1:.1f}"'
            f' y="{_TOP + plot_h - height:.1f}" width="{step * 0.8:.1f}" height="{height:.1f}"'
            f' fill="{"url(#hatch-" + chart_id + ")" if estimated else "#2f80c2"}">'
            f"<title>{escape(title)}: {value:.3f} {escape(unit)}{' (estimated)' if estimated else ''}"
            "</title></rect>"
        )
    legend = ""
    if any_estimated:
        legend = (
            f'<defs><pattern id="hatch-{chart_id}" width="6" height="6" patternUnits="userSpaceOnUse"'
            ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#f5c27a"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a4b00" stroke-width="3"/></pattern></defs>'
            f'<rect x="{SVG_WIDTH - 120}" y="4" width="12" height="12" fill="url(#hatch-{chart_id})"/>'
            f'<text x="{SVG_WIDTH - 104}" y="15" font-size="{_FONT}" fill="#52606d">estimated</text>'
        )
    ticks = (
        f'<text x="{_LEFT}" y="{SVG_HEIGHT - 8}" font-size="{_FONT}" fill="#52606d">{escape(first)}</text>'
        f'<text x="{SVG_WIDTH - _RIGHT}" y="{SVG_HEIGHT - 8}" font-size="{_FONT}" text-anchor="end"'
        f' fill="#52606d">{escape(last)}</text>'
    )
    return mark_safe(  # noqa: S308 - every interpolated value is escaped or numeric
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label={quoteattr(label)}'
        f' viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"{legend}{_axis(label, top, unit)}{''.join(parts)}{ticks}</svg>"
    )
