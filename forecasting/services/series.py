"""Registering the series to forecast: one per feeder and region that metering aggregates, and the portfolio
(never one per meter)."""

from django.db import transaction

from forecasting.models import Series, WeatherArea


@transaction.atomic
def series_ensure_aggregates(*, zone: str, holidays: str = "", resolution_minutes: int = 30) -> list[str]:
    """Create the missing `feeder:<code>`, `region:<code>` and `portfolio` series for the aggregates metering
    has, each with the weather location its feeder or region maps to. Returns the codes created."""
    from metering.selectors.aggregates import load_aggregate_codes

    areas = {(a.kind, a.code): a.location_id for a in WeatherArea.objects.all()}
    wanted = [("portfolio", Series.Kind.PORTFOLIO, None)]
    for level, kind in (("feeder", Series.Kind.FEEDER), ("region", Series.Kind.REGION)):
        wanted += [
            (f"{level}:{code}", kind, areas.get((WeatherArea.Kind(kind.value), code)))
            for code in load_aggregate_codes(level=level)
        ]
    existing = set(Series.objects.filter(code__in=[w[0] for w in wanted]).values_list("code", flat=True))
    created = []
    for code, kind, location_id in wanted:
        if code in existing:
            continue
        Series.objects.create(
            code=code,
            kind=kind,
            zone=zone,
            holidays=holidays,
            resolution_minutes=resolution_minutes,
            weather_location_id=location_id,
        )
        created.append(code)
    return created
