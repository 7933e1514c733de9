"""Reads of the pricing app: tariffs, their versions and events, and the unit rates they charge.

`unit_rates` prices every interval of a period: half-hours for flat, tou, tiered and indexed tariffs, the
published intervals for dynamic ones. Each interval is priced by the version valid at its start, with the
tariff's pricing events applied; the rate engine is called once per version segment, never per interval.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Q, QuerySet

from core.errors import NOT_FOUND, DomainError
from core.periods import check_period
from pricing import engine
from pricing.documents import DynamicEnergy, IndexedEnergy, TariffDocument, parse_tariff_document
from pricing.models import (
    MarketPrice,
    PricingEvent,
    PublishedRate,
    RatePublication,
    Tariff,
    TariffVersion,
)
from pricing.models import TariffDirection as TariffDirection  # re-exported: the direction others filter on

MAX_PERIOD = timedelta(days=400)
HALF_HOUR_SECONDS = 1800
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = Decimal("0.000001")


class TariffNotFound(DomainError, code=NOT_FOUND): ...


class UnableToPriceTariff(DomainError, code="unable_to_price"): ...


@dataclass(frozen=True)
class UnitRate:
    """The unit rate (before tax) of one interval `[valid_from, valid_to)` and the band it falls in."""

    valid_from: datetime
    valid_to: datetime
    value_per_kwh: Decimal
    band: str
    currency: str = ""  # the ISO 4217 currency of the tariff version's document


@dataclass(frozen=True)
class _Priced:
    starts: np.ndarray  # datetime64[s], UTC
    ends: np.ndarray
    rate_micros: np.ndarray
    bands: np.ndarray
    currency: str = ""


def tariff_get(*, code: str) -> Tariff | None:
    return Tariff.objects.filter(code=code).first()


def tariff_list(*, codes: Iterable[str] | None = None, direction: str | None = None) -> QuerySet[Tariff]:
    """Tariffs, optionally only these codes and one direction (`TariffDirection`), by code."""
    tariffs = Tariff.objects.all()
    if codes is not None:
        tariffs = tariffs.filter(code__in=set(codes))
    if direction is not None:
        tariffs = tariffs.filter(direction=direction)
    return tariffs.order_by("code")


def tariff_by_id(*, tariff_ids: Iterable[int]) -> dict[int, Tariff]:
    """The tariffs with these ids, by id (one query)."""
    return {t.pk: t for t in Tariff.objects.filter(pk__in=set(tariff_ids))}


def tariff_version_list_overlapping(
    *, tariff_ids: Iterable[int], period_from: datetime, period_to: datetime
) -> QuerySet[TariffVersion]:
    """Versions of these tariffs whose period overlaps `[period_from, period_to)`, by tariff and start."""
    return (
        TariffVersion.objects.filter(tariff_id__in=set(tariff_ids), valid_from__lt=period_to)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=period_from))
        .order_by("tariff_id", "valid_from", "pk")
    )


def tariff_version_list(*, tariff: Tariff) -> QuerySet[TariffVersion]:
    return TariffVersion.objects.filter(tariff=tariff).order_by("valid_from", "pk")


def tariff_versions_overlapping(
    *, tariff: Tariff, valid_from: datetime, valid_to: datetime | None
) -> QuerySet[TariffVersion]:
    """Versions of `tariff` whose period overlaps `[valid_from, valid_to)` (open end: None)."""
    versions = TariffVersion.objects.filter(tariff=tariff).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    if valid_to is not None:
        versions = versions.filter(valid_from__lt=valid_to)
    return versions.order_by("valid_from", "pk")


def pricing_events_overlapping(
    *, tariff: Tariff, period_from: datetime, period_to: datetime
) -> QuerySet[PricingEvent]:
    return PricingEvent.objects.filter(tariffs=tariff, start__lt=period_to, end__gt=period_from).order_by(
        "start", "pk"
    )


def unit_rates(*, tariff_code: str, period_from: datetime, period_to: datetime) -> list[UnitRate]:
    """The unit rate of every interval in `[period_from, period_to)` (at most 400 days).

    Tiered tariffs show their first tier: which tier applies depends on consumption (see the bill).
    Raise `UnableToPriceTariff` naming the first interval that cannot be priced (no version, no market
    price, no published rate).
    """
    tariff = tariff_get(code=tariff_code)
    if tariff is None:
        raise TariffNotFound(f"No tariff '{tariff_code}'.", field="tariff_code")
    _check_period(period_from, period_to)
    versions = list(tariff_versions_overlapping(tariff=tariff, valid_from=period_from, valid_to=period_to))
    events = tariff_events(tariff, period_from, period_to)
    grid = _half_hours(period_from, period_to)
    covered = np.zeros(len(grid), dtype=bool)
    parts: list[_Priced] = []
    documents = {version.pk: parse_tariff_document(version.document) for version in versions}
    markets = market_series(
        {doc.energy.market for doc in documents.values() if isinstance(doc.energy, IndexedEnergy)},
        period_from,
        period_to,
    )
    for version in versions:
        start = max(version.valid_from, period_from)
        end = min(version.valid_to or period_to, period_to)
        mask = (grid >= _instant(start)) & (grid < _instant(end))
        covered |= mask
        parts.append(
            _price_segment(tariff, documents[version.pk], version, grid[mask], start, end, events, markets)
        )
    if not covered.all():
        first = _as_datetime(int(grid[~covered][0].astype(np.int64)))
        raise UnableToPriceTariff(
            f"Tariff {tariff.code} has no version valid at {_iso(first)}.", field="period_from"
        )
    return _as_unit_rates(parts)


def tariff_version_rates(
    *, version: TariffVersion, period_from: datetime, period_to: datetime
) -> list[UnitRate]:
    """The rates `version`'s document gives every interval of the period (whether or not the version is
    valid then), with the tariff's events: a preview of what a version charges."""
    _check_period(period_from, period_to)
    document = parse_tariff_document(version.document)
    markets = market_series(
        {document.energy.market} if isinstance(document.energy, IndexedEnergy) else set(),
        period_from,
        period_to,
    )
    events = tariff_events(version.tariff, period_from, period_to)
    grid = _half_hours(period_from, period_to)
    return _as_unit_rates(
        [_price_segment(version.tariff, document, version, grid, period_from, period_to, events, markets)]
    )


def _check_period(period_from: datetime, period_to: datetime) -> None:
    check_period(
        period_from,
        period_to,
        fields=("period_from", "period_to"),
        names=("periodFrom", "periodTo"),
        longest=MAX_PERIOD,
        error=UnableToPriceTariff,
    )
    for name, moment in (("period_from", period_from), ("period_to", period_to)):
        if (moment - _EPOCH) % timedelta(seconds=HALF_HOUR_SECONDS):
            raise UnableToPriceTariff(
                f"{_iso(moment)} is not on a half-hour boundary; unit rates are given per half-hour.",
                field=name,
            )


def _half_hours(period_from: datetime, period_to: datetime) -> np.ndarray:
    return np.arange(_instant(period_from), _instant(period_to), HALF_HOUR_SECONDS, dtype="datetime64[s]")


def _instant(moment: datetime) -> np.datetime64:
    return np.datetime64((moment - _EPOCH) // timedelta(seconds=1), "s")


def _as_datetime(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tariff_events(tariff: Tariff, period_from: datetime, period_to: datetime) -> list[engine.Event]:
    return [
        engine.Event(kind=PricingEvent.Kind(event.kind).document_key, start=event.start, end=event.end)
        for event in pricing_events_overlapping(tariff=tariff, period_from=period_from, period_to=period_to)
    ]


def market_series(codes: Iterable[str], period_from: datetime, period_to: datetime) -> dict:
    """Each market's prices over the period as a `PriceSeries`: one query per market named."""
    series = {}
    for code in sorted(codes):
        rows = list(
            MarketPrice.objects.filter(
                market__code=code, interval_start__lt=period_to, interval_end__gt=period_from
            )
            .order_by("interval_start")
            .values_list("interval_start", "interval_end", "price_per_mwh")
        )
        series[code] = engine.PriceSeries(
            starts=engine.as_utc_seconds([row[0] for row in rows]),
            ends=engine.as_utc_seconds([row[1] for row in rows]),
            values_micros=np.array([int(row[2].scaleb(6)) for row in rows], dtype=np.int64),
        )
    return series


def published_series(tariff: Tariff, zone: ZoneInfo, start: datetime, end: datetime) -> engine.PriceSeries:
    """The latest revision of each day's published rates of a dynamic tariff within `[start, end)`."""
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    latest: dict = {}
    for pk, day, revision in RatePublication.objects.filter(
        tariff=tariff, day__gte=first_day, day__lte=last_day
    ).values_list("pk", "day", "revision"):
        if day not in latest or revision > latest[day][1]:
            latest[day] = (pk, revision)
    rows = list(
        PublishedRate.objects.filter(
            publication_id__in=[pk for pk, _ in latest.values()],
            interval_start__lt=end,
            interval_end__gt=start,
        )
        .order_by("interval_start")
        .values_list("interval_start", "interval_end", "rate_per_kwh")
    )
    return engine.PriceSeries(
        starts=engine.as_utc_seconds([row[0] for row in rows]),
        ends=engine.as_utc_seconds([row[1] for row in rows]),
        values_micros=np.array([int(row[2].scaleb(6)) for row in rows], dtype=np.int64),
    )


def _price_segment(
    tariff: Tariff,
    document: TariffDocument,
    version: TariffVersion,
    starts: np.ndarray,
    start: datetime,
    end: datetime,
    events: Sequence[engine.Event],
    markets: dict,
) -> _Priced:
    """Price one version's intervals with a single engine call."""
    market = published = None
    if isinstance(document.energy, IndexedEnergy):
        market = markets[document.energy.market]
    elif isinstance(document.energy, DynamicEnergy):
        published = published_series(tariff, document.zone, start, end)
        starts, ends = _published_grid(published, start, end)
    if not isinstance(document.energy, DynamicEnergy):
        ends = starts + np.timedelta64(HALF_HOUR_SECONDS, "s")
    try:
        series = engine.unit_rates(document, starts, market=market, published=published, events=events)
    except engine.MissingPrice as exc:
        raise UnableToPriceTariff(
            f"Tariff {tariff.code} (version from {_iso(version.valid_from)}): {exc}.",
            field="period_to",
            code="missing_price",
        ) from exc
    except engine.UnpricedEvent as exc:
        raise UnableToPriceTariff(
            f"Tariff {tariff.code} (version from {_iso(version.valid_from)}): {exc}.",
            field="tariff_code",
            code="unpriced_event",
        ) from exc
    return _Priced(
        starts=starts,
        ends=ends,
        rate_micros=series.rate_micros,
        bands=series.band,
        currency=document.currency,
    )


def _published_grid(
    published: engine.PriceSeries, start: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """The published intervals starting in `[start, end)`; they must cover it without a gap."""
    first, last = _instant(start), _instant(end)
    inside = (published.starts >= first) & (published.starts < last)
    starts, ends = published.starts[inside], published.ends[inside]
    missing = None
    if not len(starts) or starts[0] != first:
        missing = first
    elif len(gaps := np.flatnonzero(starts[1:] != ends[:-1])):
        missing = ends[gaps[0]]
    elif ends[-1] < last:
        missing = ends[-1]
    if missing is not None:
        moment = _as_datetime(int(missing.astype(np.int64)))
        raise UnableToPriceTariff(
            f"No published rate covers the interval starting {_iso(moment)}.",
            field="period_to",
            code="missing_price",
        )
    return starts, ends


def _as_unit_rates(parts: list[_Priced]) -> list[UnitRate]:
    if not parts:
        return []
    starts = np.concatenate([p.starts for p in parts]).astype(np.int64)
    ends = np.concatenate([p.ends for p in parts]).astype(np.int64)
    rates = np.concatenate([p.rate_micros for p in parts])
    bands = np.concatenate([p.bands for p in parts])
    currencies = np.concatenate([np.full(len(p.starts), p.currency, dtype=object) for p in parts])
    order = np.argsort(starts, kind="stable")
    return [
        UnitRate(
            valid_from=_as_datetime(start),
            valid_to=_as_datetime(end),
            value_per_kwh=Decimal(rate).scaleb(-6).quantize(_MICRO),
            band=str(band),
            currency=currency,
        )
        for start, end, rate, band, currency in zip(
            starts[order].tolist(),
            ends[order].tolist(),
            rates[order].tolist(),
            bands[order].tolist(),
            currencies[order].tolist(),
            strict=True,
        )
    ]
