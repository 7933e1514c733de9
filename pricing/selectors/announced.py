"""The bands (Low/Normal/High, …) that announced rates of a dynamic tariff were published with."""

from datetime import datetime, timedelta

from pricing.models import PublishedRate, RatePublication, Tariff

_PREFIX = "band "


def announced_bands(*, tariff_code: str, period_from: datetime, period_to: datetime) -> dict[datetime, str]:
    """The announced band of each published interval in [period_from, period_to) (latest revision of each
    day), keyed by interval start (UTC); intervals not announced with a band are absent."""
    tariff = Tariff.objects.filter(code=tariff_code).first()
    if tariff is None:
        return {}
    latest: dict = {}
    for pk, day, revision in RatePublication.objects.filter(
        tariff=tariff,
        day__gte=(period_from - timedelta(days=1)).date(),
        day__lte=(period_to + timedelta(days=1)).date(),
    ).values_list("pk", "day", "revision"):
        if day not in latest or revision > latest[day][1]:
            latest[day] = (pk, revision)
    bands = {}
    for start, breakdown in PublishedRate.objects.filter(
        publication_id__in=[pk for pk, _ in latest.values()],
        interval_start__gte=period_from,
        interval_start__lt=period_to,
    ).values_list("interval_start", "breakdown"):
        for step in breakdown or []:
            note = str(step.get("note", "")) if isinstance(step, dict) else ""
            if step.get("rule") == "announced" and note.startswith(_PREFIX):
                bands[start] = note[len(_PREFIX) :]
                break
    return bands
