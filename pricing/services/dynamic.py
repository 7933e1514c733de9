"""Dynamic prices: a local day of rates published, with its ledger entry, from the rules or as announced.

`dynamic_prices_publish` prices a local day of a dynamic tariff with the rule pipeline (pricing/dynamic.py),
stores it as a `RatePublication` with its `PublishedRate` rows and appends a `LedgerEntry`, all in one
transaction. Repeating it with the same inputs changes nothing; different content is a new revision.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction

from core.errors import DomainError
from pricing import dynamic, ledger
from pricing.documents import DynamicEnergy, InvalidTariffDocument, TariffDocument, parse_tariff_document
from pricing.models import (
    LedgerEntry,
    Market,
    MarketPrice,
    PublishedRate,
    RatePublication,
    Tariff,
    TariffVersion,
)
from pricing.selectors.ledger import ledger_key
from pricing.selectors.tariffs import TariffNotFound

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serialising ledger appends ("pricelgr" as a big-endian int64).
LEDGER_LOCK_KEY = 0x70726963656C6772
PUBLISH_ATTEMPTS = 3
LOAD_LOOKBACK_DAYS = 28


class UnableToPublishPrices(DomainError, code="unable_to_publish_prices"): ...


class NotADynamicTariff(UnableToPublishPrices, code="not_dynamic"): ...


class InvalidDynamicRule(UnableToPublishPrices, code="invalid_dynamic_rule"): ...


class NoMarketPriceForInterval(UnableToPublishPrices, code="missing_market_price"): ...


@dataclass(frozen=True)
class PublishOutcome:
    """The publication of the day (new, or the existing one when the content was identical)."""

    publication: RatePublication
    created: bool
    ledger_entry: LedgerEntry


@dataclass(frozen=True)
class DueReport:
    published: list[str] = field(default_factory=list)
    already_published: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "published": self.published,
            "already_published": self.already_published,
            "not_due": self.not_due,
            "failed": self.failed,
        }


def dynamic_prices_publish(
    *,
    tariff_code: str,
    day: date,
    now: datetime,
    temperatures: Mapping[datetime, object] | None = None,
    load_forecast: Mapping | None = None,
) -> PublishOutcome:
    """Price the local `day` of a dynamic tariff and publish it with its ledger entry.

    `temperatures` maps interval starts (or UTC hour starts) to °C; `load_forecast` maps interval starts
    to kWh (used by every demand rule), or region codes to such maps. Identical content returns the
    existing publication (created=False); different content becomes revision + 1.
    """
    tariff = Tariff.objects.filter(code=tariff_code).first()
    if tariff is None:
        raise TariffNotFound(f"No tariff with code {tariff_code!r}.", field="tariffCode")
    version, document, energy = _dynamic_version(tariff, day)
    rules = _rules(energy)
    zone = document.zone
    intervals = dynamic.day_intervals(day, zone)
    day_start, day_end = intervals[0][0], intervals[-1][1]
    market = []
    if any(isinstance(rule, dynamic.MarketRule) for rule in rules):
        market = _market_intervals(energy.market, day_start, day_end)
    loads = _loads(rules, day, zone, day_start, day_end, _forecasts(load_forecast, rules), now=now)
    try:
        priced = dynamic.day_price(
            rules,
            intervals,
            zone=zone,
            market=market,
            loads=loads,
            temperatures=(
                _temperatures(temperatures)
                if temperatures is not None
                else _weather_temperatures(rules, day_start, day_end, now=now)
            ),
        )
    except dynamic.MissingMarketPrice as exc:
        raise NoMarketPriceForInterval(
            f"No {energy.market} market price covers the interval starting {dynamic.iso_utc(exc.start)}.",
            field="day",
        ) from exc
    lines = [ledger.RateLine(p.start, p.end, p.rate_per_kwh, p.breakdown()) for p in priced]
    return _publish_with_retry(tariff=tariff, version=version, day=day, lines=lines, now=now)


def _publish_with_retry(*, tariff, version, day: date, lines: list, now: datetime) -> PublishOutcome:
    """`_publish` in its own transaction, retried when another publisher appended to the head we read
    (only possible without the advisory lock, i.e. not on PostgreSQL)."""
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _publish(tariff=tariff, version=version, day=day, lines=lines, now=now)
        except IntegrityError:
            if attempt == PUBLISH_ATTEMPTS:
                raise
            log.warning("ledger append raced for %s %s; retrying", tariff.code, day)
    raise AssertionError("unreachable")  # pragma: no cover


def _publish(
    *, tariff: Tariff, version: TariffVersion, day: date, lines: list[ledger.RateLine], now: datetime
) -> PublishOutcome:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
    latest = (
        RatePublication.objects.filter(tariff=tariff, day=day)
        .select_related("ledger_entry")
        .order_by("-revision")
        .first()
    )

    def content(revision: int) -> str:
        return ledger.sha256_hex(
            ledger.canonical_content(
                tariff_code=tariff.code,
                version_id=version.pk,
                version_sha256=version.document_sha256,
                day=day,
                revision=revision,
                rates=lines,
            )
        )

    if latest is not None and content(latest.revision) == latest.content_sha256:
        return PublishOutcome(publication=latest, created=False, ledger_entry=latest.ledger_entry)
    revision = latest.revision + 1 if latest is not None else 1
    content_sha256 = content(revision)
    publication = RatePublication.objects.create(
        tariff=tariff,
        tariff_version=version,
        day=day,
        revision=revision,
        published_at=now,
        content_sha256=content_sha256,
    )
    PublishedRate.objects.bulk_create(
        PublishedRate(
            publication=publication,
            interval_start=line.interval_start,
            interval_end=line.interval_end,
            rate_per_kwh=line.rate_per_kwh,
            breakdown=line.breakdown,
        )
        for line in lines
    )
    head = LedgerEntry.objects.order_by("-sequence").first()
    sequence = head.sequence + 1 if head is not None else 1
    previous = head.entry_sha256 if head is not None else ledger.GENESIS
    entry_sha256 = ledger.entry_hash(previous, content_sha256, sequence)
    entry = LedgerEntry.objects.create(
        sequence=sequence,
        publication=publication,
        content_sha256=content_sha256,
        previous_sha256=previous,
        entry_sha256=entry_sha256,
        entry_hmac=ledger.entry_hmac(ledger_key(), sequence, entry_sha256),
        created_at=now,
    )
    return PublishOutcome(publication=publication, created=True, ledger_entry=entry)


def dynamic_prices_publish_due(*, now: datetime) -> DueReport:
    """Publish tomorrow's prices of every dynamic tariff whose market's day-ahead results are in.

    "Tomorrow" is the next local day in the tariff's zone; results for a day arrive on the day before at
    the market's `day_ahead_results_at` (market-local). A day that has a publication is left alone.
    """
    report = DueReport()
    tariff_ids = TariffVersion.objects.filter(kind="dynamic").values("tariff_id")
    for tariff in Tariff.objects.filter(pk__in=tariff_ids).order_by("code"):
        latest = tariff.versions.filter(kind="dynamic").order_by("-valid_from").first()
        try:
            document = parse_tariff_document(latest.document)
            if not document.energy.rules:
                # No rules: the rates are announced from outside (announced_rates_publish), not computed.
                report.not_due.append(tariff.code)
                continue
            day = now.astimezone(document.zone).date() + timedelta(days=1)
            if RatePublication.objects.filter(tariff=tariff, day=day).exists():
                report.already_published.append(tariff.code)
                continue
            market = Market.objects.filter(code=document.energy.market).first()
            if market is None:
                raise UnableToPublishPrices(f"Unknown market {document.energy.market!r}.")
            results_at = datetime.combine(
                day - timedelta(days=1), market.day_ahead_results_at, tzinfo=ZoneInfo(market.timezone)
            )
            if now < results_at:
                report.not_due.append(tariff.code)
                continue
            dynamic_prices_publish(tariff_code=tariff.code, day=day, now=now)
            report.published.append(tariff.code)
        except (DomainError, InvalidTariffDocument) as exc:
            log.warning("dynamic prices of %s not published: %s", tariff.code, exc)
            report.failed[tariff.code] = "; ".join(getattr(exc, "messages", [str(exc)]))
    return report


def _dynamic_version(tariff: Tariff, day: date) -> tuple[TariffVersion, TariffDocument, DynamicEnergy]:
    """The version valid at the local midnight starting `day` (read in each candidate's own zone)."""
    candidates = tariff.versions.order_by("-valid_from")
    for version in candidates:
        try:
            document = parse_tariff_document(version.document)
        except InvalidTariffDocument as exc:
            raise UnableToPublishPrices(exc.message, field=f"document.{exc.field}") from exc
        start, _ = dynamic.day_bounds(day, document.zone)
        if version.valid_from <= start and (version.valid_to is None or start < version.valid_to):
            if not isinstance(document.energy, DynamicEnergy):
                raise NotADynamicTariff(
                    f"Tariff {tariff.code} is {document.energy.kind!r} on {day}, not 'dynamic'.",
                    field="tariffCode",
                )
            return version, document, document.energy
    raise NotADynamicTariff(f"Tariff {tariff.code} has no version valid on {day}.", field="day")


def _rules(energy: DynamicEnergy) -> tuple[dynamic.Rule, ...]:
    try:
        rules = dynamic.rules_parse(energy.rules)
        dynamic.rules_check_order(rules)
    except dynamic.InvalidRule as exc:
        raise InvalidDynamicRule(exc.message, field=exc.field) from exc
    return rules


def _market_intervals(code: str, start: datetime, end: datetime) -> list[dynamic.MarketInterval]:
    rows = MarketPrice.objects.filter(
        market__code=code, interval_start__lt=end, interval_end__gt=start
    ).order_by("interval_start")
    return [
        dynamic.MarketInterval(start, end_, price)
        for start, end_, price in rows.values_list("interval_start", "interval_end", "price_per_mwh")
    ]


def _forecasts(
    load_forecast: Mapping | None, rules: tuple[dynamic.Rule, ...]
) -> dict[str, Mapping[datetime, Decimal]]:
    """Normalise the forecast to region -> {interval_start: kWh}."""
    if not load_forecast:
        return {}
    regions = {rule.region for rule in rules if isinstance(rule, dynamic.DemandRule)}
    if all(isinstance(value, Mapping) for value in load_forecast.values()):
        per_region = load_forecast
    else:
        per_region = dict.fromkeys(regions, load_forecast)
    return {
        region: {start: _decimal(kwh, "loadForecast") for start, kwh in series.items()}
        for region, series in per_region.items()
    }


def _loads(
    rules: tuple[dynamic.Rule, ...],
    day: date,
    zone: ZoneInfo,
    day_start: datetime,
    day_end: datetime,
    forecasts: dict[str, Mapping[datetime, Decimal]],
    *,
    now: datetime,
) -> dict[str, Callable[[datetime], dynamic.Load | None]]:
    """Per region: the load forecast given by the caller, else the stored forecast of `region:<code>` issued
    at or before `now` (its breakdown note names the forecast run), else the recent-average baseline."""
    from forecasting.selectors.demand import demand_baseline_by_slot, demand_forecast_by_start

    lookups = {}
    for region in {rule.region for rule in rules if isinstance(rule, dynamic.DemandRule)}:
        given = forecasts.get(region, {})
        stored = demand_forecast_by_start(
            series_code=f"region:{region}", period_from=day_start, period_to=day_end, as_of=now
        )
        stored_values, stored_source = stored if stored else ({}, "")
        history = demand_baseline_by_slot(region_code=region, zone=zone, before=day, day_start=day_start)

        def lookup(
            start: datetime,
            given=given,
            stored_values=stored_values,
            stored_source=stored_source,
            history=history,
        ) -> dynamic.Load | None:
            if start in given:
                return dynamic.Load(given[start], "forecast")
            if start in stored_values:
                return dynamic.Load(stored_values[start], stored_source)
            baseline = history.get(dynamic.local_slot(start, zone))
            return dynamic.Load(*baseline) if baseline else None

        lookups[region] = lookup
    return lookups


def _weather_temperatures(
    rules: tuple[dynamic.Rule, ...], day_start: datetime, day_end: datetime, *, now: datetime
) -> dict[datetime, Decimal]:
    """Hourly °C from the weather forecast (or observations) known at `now`, for the first weather rule's
    location (or the location mapped to the first demand rule's region)."""
    from forecasting.selectors.weather import weather_frame, weather_location_for_area

    weather = next((rule for rule in rules if isinstance(rule, dynamic.WeatherRule)), None)
    if weather is None:
        return {}
    location = weather.location
    if not location:
        demand = next((rule for rule in rules if isinstance(rule, dynamic.DemandRule)), None)
        mapped = weather_location_for_area(kind="region", code=demand.region) if demand else None
        location = mapped.code if mapped else ""
    if not location:
        return {}
    frame = weather_frame(location_code=location, period_from=day_start, period_to=day_end, as_of=now)
    return {
        start.to_pydatetime(): Decimal(str(round(float(value), 2)))
        for start, value in frame["temperature_c"].items()
        if value == value  # not NaN
    }


def _temperatures(temperatures: Mapping[datetime, object] | None) -> dict[datetime, Decimal]:
    return {start: _decimal(value, "temperatures") for start, value in (temperatures or {}).items()}


def _decimal(value: object, what: str) -> Decimal:
    try:
        parsed = Decimal(str(value)) if isinstance(value, float | int | str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise UnableToPublishPrices(f"{value!r} is not a number.", field=what) from exc
    if not parsed.is_finite():
        raise UnableToPublishPrices(f"{value!r} is not a finite number.", field=what)
    return parsed


@dataclass(frozen=True)
class AnnouncedRate:
    """One interval of rates announced outside the rule engine (e.g. a trial's day-ahead band)."""

    start: datetime
    end: datetime
    rate_per_kwh: Decimal
    band: str


def announced_rates_publish(
    *, tariff_code: str, day: date, rates: list[AnnouncedRate], now: datetime
) -> PublishOutcome:
    """Publish rates that were announced, not computed, for the local `day` of a dynamic tariff.

    `rates` must cover the day's half hours exactly (46/48/50 in the tariff's zone). Each published interval
    has one breakdown step {"rule": "announced", "per_kwh": rate, "note": "band <band>"}. Storage, ledger
    append and idempotency are those of `dynamic_prices_publish` (identical content returns the existing
    publication; different content becomes revision + 1).
    """
    tariff = Tariff.objects.filter(code=tariff_code).first()
    if tariff is None:
        raise TariffNotFound(f"No tariff with code {tariff_code!r}.", field="tariffCode")
    version, document, _ = _dynamic_version(tariff, day)
    expected = dynamic.day_intervals(day, document.zone)
    ordered = sorted(rates, key=lambda rate: rate.start)
    if [(rate.start, rate.end) for rate in ordered] != expected:
        raise UnableToPublishPrices(
            f"The announced rates must cover the {len(expected)} half hours of {day} in {document.timezone}"
            f" exactly; got {len(ordered)} intervals.",
            field="rates",
        )
    lines = []
    for rate in ordered:
        per_kwh = _decimal(rate.rate_per_kwh, "rates")
        step = dynamic.Step("announced", per_kwh, f"band {rate.band}")
        lines.append(ledger.RateLine(rate.start, rate.end, per_kwh, [step.as_json()]))
    return _publish_with_retry(tariff=tariff, version=version, day=day, lines=lines, now=now)
