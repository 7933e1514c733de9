"""What a customer's account page shows: the current tariff with today's and tomorrow's unit rates,
consumption per day and per half-hour (estimated marked), balance and recent account activity, the bills,
and a projection of this month's bill as a range.

The projection: there are no per-account forecasts (forecasting forecasts feeders, regions and the
portfolio), so it comes from the account's own recent days: the cost of the month so far (half-hourly kWh ×
the unit rate of each half-hour, plus the standing charge per day) plus, for each remaining day, the 20th to
80th percentile of the daily energy cost over the last 28 complete days, plus the standing charge (of the
tariff version in force); tax at the tariff's rate, or at the ratio of the latest bill.
Everything is read with a handful of set-based queries (see bench/billing_portal.py).
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q

from billing.models import Agreement, Customer, Invoice
from billing.selectors.bill_document import ACTUAL_QUALITY
from billing.selectors.invoice_charts import RatePoint
from billing.selectors.statements import StatementLine, account_balance, account_statement
from core.errors import DomainError
from metering.selectors.readings import (
    PeriodTooLong,
    ReadingBucket,
    meter_list,
    reading_arrays,
    reading_series,
)
from pricing.documents import parse_tariff_document
from pricing.selectors.announced import announced_bands
from pricing.selectors.tariffs import UnitRate, tariff_versions_overlapping, unit_rates

HISTORY_DAYS = 28
PROJECTION_CACHE_SECONDS = 3600
NO_PROJECTION = "none"
DAILY_DAYS = 30
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Usage:
    start: datetime  # UTC
    end: datetime
    local_start: datetime
    energy_kwh: Decimal
    estimated: bool


@dataclass(frozen=True)
class Projection:
    low: Decimal
    high: Decimal
    so_far: Decimal  # the month so far, tax included
    days_elapsed: int
    days_in_month: int
    basis: str  # how it was made, in words


@dataclass(frozen=True)
class AccountOverview:
    customer: Customer
    agreement: Agreement | None
    timezone: str
    today: date
    currency: str
    rates_today: list[RatePoint]
    rates_tomorrow: list[RatePoint]  # empty until tomorrow's rates are known (dynamic tariffs)
    rate_bands: list[tuple[datetime, str]]  # the band of each rate of today and tomorrow
    daily: list[Usage]
    half_hourly: list[Usage]
    half_hour_day: date
    balance: Decimal
    activity: list[StatementLine]
    invoices: list[Invoice]
    projection: Projection | None

    rate_now: Decimal | None = None


def current_agreement(customer: Customer, *, now: datetime) -> Agreement | None:
    """The agreement in force at `now`, else the latest one."""
    agreements = Agreement.objects.filter(customer=customer).select_related(
        "meter_point", "import_tariff", "export_tariff"
    )
    live = agreements.filter(valid_from__lte=now).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now))
    return live.order_by("-valid_from", "-pk").first() or agreements.order_by("-valid_from", "-pk").first()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def _rates(code: str, start: datetime, end: datetime) -> list[UnitRate]:
    try:
        return unit_rates(tariff_code=code, period_from=start, period_to=end)
    except (DomainError, ValidationError):
        return []


def _usage(buckets: list[ReadingBucket], zone: ZoneInfo) -> list[Usage]:
    return [
        Usage(
            b.interval_start,
            b.interval_end,
            b.interval_start.astimezone(zone),
            b.kwh,
            (b.quality or 0) > ACTUAL_QUALITY,
        )
        for b in buckets
    ]


def consumption(
    agreement: Agreement, *, start: datetime, end: datetime, group_by: str = "HALF_HOUR"
) -> list[Usage]:
    """The agreement's meter point's import per half-hour or local day over [start, end), with estimates
    marked; pages through long periods."""
    zone = ZoneInfo(agreement.meter_point.timezone)
    try:
        buckets = reading_series(
            meter_point=agreement.meter_point, period_from=start, period_to=end, group_by=group_by
        )
    except PeriodTooLong:
        # A half-hourly year is more than one page: split the period in two.
        middle = start + (end - start) / 2
        return consumption(agreement, start=start, end=middle, group_by=group_by) + consumption(
            agreement, start=middle, end=end, group_by=group_by
        )
    return _usage(buckets, zone)


def _daily_costs(agreement: Agreement, zone: ZoneInfo, first: date, last: date) -> dict[date, Decimal]:
    """Energy cost (before standing charge and tax) of each complete local day in [first, last): stored
    half-hourly kWh × the unit rate of each half-hour, summed exactly in integers
    (kWh × 10^4 × rate × 10^6)."""
    start, end = _midnight(first, zone), _midnight(last, zone)
    meter_ids = np.array(
        [m.pk for m in meter_list(meter_point=agreement.meter_point) if m.direction == "IMPORT"],
        dtype=np.int64,
    )
    rates = _rates(agreement.import_tariff.code, start, end)
    if not len(meter_ids) or not rates:
        return {}
    block = reading_arrays(meter_ids=meter_ids, start=start, end=end)
    rate_starts = np.array([int(r.valid_from.timestamp()) for r in rates], dtype=np.int64)
    rate_micros = np.array([int(r.value_per_kwh.scaleb(6)) for r in rates], dtype=np.int64)
    position = np.searchsorted(rate_starts, block.start_s)
    inside = position < len(rate_starts)
    inside[inside] = rate_starts[position[inside]] == block.start_s[inside]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    edges = np.array([int(_midnight(day, zone).timestamp()) for day in days], dtype=np.int64)
    day_index = np.searchsorted(edges, block.start_s[inside], side="right") - 1
    cost_e10 = block.kwh_e4[inside] * rate_micros[position[inside]]
    out: dict[date, int] = {}
    for index, cost in zip(day_index.tolist(), cost_e10.tolist(), strict=True):
        out[days[index]] = out.get(days[index], 0) + cost
    return {day: Decimal(cost).scaleb(-10) for day, cost in out.items()}


def _projection(
    agreement: Agreement, zone: ZoneInfo, today: date, latest: Invoice | None
) -> Projection | None:
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    history_start = min(month_start, today - timedelta(days=HISTORY_DAYS))
    if history_start >= today:
        return None
    daily = _daily_costs(agreement, zone, history_start, today)
    if not daily:
        return None
    standing, tax_ratio = _standing_and_tax(agreement, _midnight(today, zone), latest)
    recent = sorted(cost for day, cost in daily.items() if day >= today - timedelta(days=HISTORY_DAYS))
    if not recent:
        return None
    low_day = recent[int(0.2 * (len(recent) - 1))]
    high_day = recent[round(0.8 * (len(recent) - 1))]
    elapsed = (today - month_start).days
    so_far = (
        sum((cost for day, cost in daily.items() if day >= month_start), Decimal("0")) + standing * elapsed
    )
    remaining = days_in_month - elapsed
    factor = 1 + tax_ratio

    def total(day_cost: Decimal) -> Decimal:
        return ((so_far + remaining * (day_cost + standing)) * factor).quantize(_CENT, ROUND_HALF_UP)

    return Projection(
        low=total(low_day),
        high=total(high_day),
        so_far=(so_far * factor).quantize(_CENT, ROUND_HALF_UP),
        days_elapsed=elapsed,
        days_in_month=days_in_month,
        basis=f"your use on the last {len(recent)} days at your tariff's rates",
    )


def _standing_and_tax(agreement: Agreement, at: datetime, latest: Invoice | None) -> tuple[Decimal, Decimal]:
    """The standing charge per day and the tax rate of the tariff version valid at `at`; without a tax in
    the document, the tax-to-net ratio of the latest bill."""
    standing, tax_ratio = Decimal("0"), Decimal("0")
    version = tariff_versions_overlapping(
        tariff=agreement.import_tariff, valid_from=at - timedelta(days=1), valid_to=at
    ).last()
    document = parse_tariff_document(version.document) if version is not None else None
    if document is not None:
        standing = document.standing_charge_per_day or Decimal("0")
    if document is not None and document.tax is not None:
        tax_ratio = document.tax.rate
    elif latest is not None and latest.net_amount:
        tax_ratio = latest.tax_amount / latest.net_amount
    return standing, tax_ratio


def account_overview(
    *, customer: Customer, now: datetime, half_hour_day: date | None = None
) -> AccountOverview:
    """The account page of `customer` at `now`."""
    agreement = current_agreement(customer, now=now)
    zone_name = agreement.meter_point.timezone if agreement else "Europe/London"
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    invoices = list(
        Invoice.objects.filter(customer=customer)
        .exclude(status=Invoice.Status.DRAFT)
        .prefetch_related("lines")
        .order_by("-period_start", "-id")[:24]
    )
    currency = invoices[0].currency if invoices else "GBP"
    rates_today: list[RatePoint] = []
    rates_tomorrow: list[RatePoint] = []
    bands: list[tuple[datetime, str]] = []
    daily: list[Usage] = []
    half_hourly: list[Usage] = []
    day = half_hour_day or today - timedelta(days=1)
    projection = None
    if agreement is not None:
        code = agreement.import_tariff.code
        midnight, next_midnight = _midnight(today, zone), _midnight(today + timedelta(days=1), zone)
        # Both days in one call; until tomorrow's rates are known (dynamic tariffs), today's alone.
        priced = _rates(code, midnight, _midnight(today + timedelta(days=2), zone)) or _rates(
            code, midnight, next_midnight
        )
        for rate in priced:
            (rates_today if rate.valid_from < next_midnight else rates_tomorrow).append(
                RatePoint(rate.valid_from, rate.value_per_kwh)
            )
        announced = (
            announced_bands(tariff_code=code, period_from=priced[0].valid_from, period_to=priced[-1].valid_to)
            if priced and any(rate.band == "dynamic" for rate in priced)
            else {}
        )
        bands.extend((rate.valid_from, announced.get(rate.valid_from, rate.band)) for rate in priced)
        daily = consumption(
            agreement,
            start=_midnight(today - timedelta(days=DAILY_DAYS), zone),
            end=_midnight(today + timedelta(days=1), zone),
            group_by="DAY",
        )
        half_hourly = consumption(
            agreement, start=_midnight(day, zone), end=_midnight(day + timedelta(days=1), zone)
        )
        latest = invoices[0] if invoices else None
        # Complete days only: the projection changes once a day (or with a new bill); cached until then.
        key = f"billing:projection:{agreement.pk}:{today.isoformat()}:{latest.pk if latest else 0}"
        projection = cache.get(key)
        if projection is None:
            projection = _projection(agreement, zone, today, latest) or NO_PROJECTION
            cache.set(key, projection, PROJECTION_CACHE_SECONDS)
        projection = None if projection == NO_PROJECTION else projection
    rate_now = next(
        (r.unit_rate_per_kwh for r in reversed(rates_today + rates_tomorrow) if r.valid_from <= now), None
    )
    year_ago = now - timedelta(days=366)
    year = account_statement(customer, start=year_ago, end=now)
    # The last entry's running balance is the balance now (the statement starts from the balance a year
    # ago); without entries in the year the balance is asked for on its own.
    balance = year[-1].balance if year else account_balance(customer, at=now)
    return AccountOverview(
        customer=customer,
        agreement=agreement,
        timezone=zone_name,
        today=today,
        currency=currency,
        rates_today=rates_today,
        rates_tomorrow=rates_tomorrow,
        rate_bands=bands,
        daily=daily,
        half_hourly=half_hourly,
        half_hour_day=day,
        balance=balance,
        activity=list(reversed(year))[:12],
        invoices=invoices,
        projection=projection,
        rate_now=rate_now,
    )
