"""What a customer's account page shows: the current tariff with today's and tomorrow's unit rates,
consumption per day and per half-hour (estimated marked), balance and recent account activity, the bills,
and a projection of this month's bill as a range.

The projection: there are no per-account forecasts (forecasting forecasts feeders, regions and the
portfolio), so it comes from the account's own recent days: the cost of the month so far (half-hourly kWh ×
the unit rate of each half-hour, plus the standing charge per day) plus, for each remaining day, the 20th to
80th percentile of the daily energy cost over the last 28 complete days, plus the standing charge (of the
tariff version in force); tax at the tariff's rate, or at the ratio of the latest bill. Everything is read with a handful of set-based queries (see bench/billing_portal.py).
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.core.exceptions import ValidationError

from billing.models import Agreement, Customer, Invoice, InvoiceLine
from billing.selectors.bill_document import ACTUAL_QUALITY
from billing.selectors.invoice_charts import RatePoint
from billing.selectors.statements import StatementLine, account_balance, account_statement
from core.errors import DomainError
from metering.selectors.readings import PeriodTooLong, ReadingBucket, reading_series
from pricing.selectors.announced import announced_bands
from pricing.documents import parse_tariff_document
from pricing.selectors.tariffs import UnitRate, tariff_versions_overlapping, unit_rates

HISTORY_DAYS = 28
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


def _projection(
    agreement: Agreement, zone: ZoneInfo, today: date, latest: Invoice | None
) -> Projection | None:
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    history_start = min(month_start, today - timedelta(days=HISTORY_DAYS))
    start, end = _midnight(history_start, zone), _midnight(today, zone)
    if start >= end:
        return None
    buckets = reading_series(meter_point=agreement.meter_point, period_from=start, period_to=end, limit=20_000)
    rates = {r.valid_from: r.value_per_kwh for r in _rates(agreement.import_tariff.code, start, end)}
    if not buckets or not rates:
        return None
    daily: dict[date, Decimal] = {}
    for bucket in buckets:
        rate = rates.get(bucket.interval_start)
        if rate is None:
            continue
        local = bucket.interval_start.astimezone(zone).date()
        daily[local] = daily.get(local, Decimal("0")) + bucket.kwh * rate
    standing, tax_ratio = _standing_and_tax(agreement, end, latest)
    recent = sorted(cost for day, cost in daily.items() if day >= today - timedelta(days=HISTORY_DAYS))
    if not recent:
        return None
    low_day = recent[int(0.2 * (len(recent) - 1))]
    high_day = recent[int(round(0.8 * (len(recent) - 1)))]
    elapsed = (today - month_start).days
    so_far = sum((cost for day, cost in daily.items() if day >= month_start), Decimal("0")) + standing * elapsed
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
        for offset, target in ((0, rates_today), (1, rates_tomorrow)):
            priced = _rates(
                code, _midnight(today + timedelta(days=offset), zone), _midnight(today + timedelta(days=offset + 1), zone)
            )
            target.extend(RatePoint(r.valid_from, r.value_per_kwh) for r in priced)
            if priced:
                announced = announced_bands(
                    tariff_code=code, period_from=priced[0].valid_from, period_to=priced[-1].valid_to
                )
                bands.extend((r.valid_from, announced.get(r.valid_from, r.band)) for r in priced)
        daily = consumption(
            agreement,
            start=_midnight(today - timedelta(days=DAILY_DAYS), zone),
            end=_midnight(today + timedelta(days=1), zone),
            group_by="DAY",
        )
        half_hourly = consumption(
            agreement, start=_midnight(day, zone), end=_midnight(day + timedelta(days=1), zone)
        )
        projection = _projection(agreement, zone, today, invoices[0] if invoices else None)
    rate_now = next(
        (r.unit_rate_per_kwh for r in reversed(rates_today + rates_tomorrow) if r.valid_from <= now), None
    )
    year_ago = now - timedelta(days=366)
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
        balance=account_balance(customer, at=now),
        activity=list(reversed(account_statement(customer, start=year_ago, end=now)))[:12],
        invoices=invoices,
        projection=projection,
        rate_now=rate_now,
    )
