"""Everything a bill shows, gathered once for the portal page, the PDF and the admin: the supplier, the
customer and their supply points (MPAN, tariff), the lines with their rates (a dynamic line with its
announced bands beneath), consumption per day with estimated days marked, issue and due dates, and the
account position (previous balance, payments received, balance due).

Consumption quality is read through metering's selectors: a day is estimated when any of its readings was
estimated or substituted (a bucket's worst quality above ACTUAL).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError

from billing.models import Agreement, Customer, Invoice, InvoiceLine, InvoiceTax
from billing.selectors.due_dates import invoice_due_date, payment_terms_days
from billing.selectors.invoice_charts import InvoiceCharts, invoice_charts
from billing.selectors.statements import StatementLine, account_statement
from core.errors import DomainError
from metering.selectors.readings import PeriodTooLong, reading_series
from pricing.selectors.announced import announced_bands
from pricing.selectors.tariffs import unit_rates

ACTUAL_QUALITY = 1  # metering's Quality.ACTUAL; anything worse is an estimate
_MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Supplier:
    name: str
    address: str
    vat_number: str


def supplier() -> Supplier:
    """The supplier printed on bills (SUPPLIER_NAME, SUPPLIER_ADDRESS, SUPPLIER_VAT_NUMBER)."""
    return Supplier(settings.SUPPLIER_NAME, settings.SUPPLIER_ADDRESS, settings.SUPPLIER_VAT_NUMBER)


@dataclass(frozen=True)
class SupplyPoint:
    mpan: str  # the meter point identifier
    tariff_code: str
    tariff_name: str
    export_tariff_name: str
    timezone: str


@dataclass(frozen=True)
class BandUsage:
    """One announced band of a dynamic line: its kWh and average rate (Σ kWh × rate / Σ kWh)."""

    band: str
    energy_kwh: Decimal
    unit_rate_per_kwh: Decimal
    amount: Decimal


@dataclass(frozen=True)
class BillLine:
    line: InvoiceLine
    rate: Decimal | None  # the line's unit price, or its average rate (amount / quantity) when it varies
    average: bool  # the rate is an average (a dynamic line)
    bands: list[BandUsage] = field(default_factory=list)


@dataclass(frozen=True)
class DayConsumption:
    day: date
    energy_kwh: Decimal
    estimated: bool


@dataclass(frozen=True)
class AccountPosition:
    previous_balance: Decimal
    payments_received: Decimal  # a positive amount received between the previous bill and this one
    other_credits: Decimal  # credit notes and adjustments in that time (+ raises what is owed)
    this_bill: Decimal
    balance_due: Decimal


@dataclass(frozen=True)
class BillDocument:
    supplier: Supplier
    invoice: Invoice
    customer: Customer
    supply_points: list[SupplyPoint]
    lines: list[BillLine]
    taxes: list[InvoiceTax]
    consumption: list[DayConsumption]
    issue_date: date | None
    due_date: date | None
    payment_terms_days: int
    position: AccountPosition
    charts: InvoiceCharts

    @property
    def currency(self) -> str:
        return self.invoice.currency

    @property
    def total_kwh(self) -> Decimal:
        return sum((d.energy_kwh for d in self.consumption), Decimal("0"))

    @property
    def estimated_days(self) -> list[date]:
        return [d.day for d in self.consumption if d.estimated]

    @property
    def standing_charge_lines(self) -> list[BillLine]:
        return [bl for bl in self.lines if bl.line.kind == InvoiceLine.Kind.STANDING_CHARGE]

    @property
    def energy_lines(self) -> list[BillLine]:
        return [bl for bl in self.lines if bl.line.kind == InvoiceLine.Kind.ENERGY]


def _agreements(invoice: Invoice) -> list[Agreement]:
    """The customer's agreements that overlap the invoice period (local dates, UTC bounds widened a day)."""
    start = datetime.combine(invoice.period_start, time(), ZoneInfo("UTC"))
    end = datetime.combine(invoice.period_end, time(), ZoneInfo("UTC"))
    agreements = (
        Agreement.objects.filter(customer_id=invoice.customer_id, valid_from__lt=end)
        .select_related("meter_point", "import_tariff", "export_tariff")
        .order_by("valid_from", "pk")
    )
    return [a for a in agreements if a.valid_to is None or a.valid_to > start]


def _bounds(invoice: Invoice, agreement: Agreement) -> tuple[datetime, datetime]:
    zone = ZoneInfo(agreement.meter_point.timezone)
    start = max(datetime.combine(invoice.period_start, time(), zone), agreement.valid_from)
    end = datetime.combine(invoice.period_end, time(), zone)
    if agreement.valid_to is not None:
        end = min(end, agreement.valid_to)
    return start, end


def _consumption(invoice: Invoice, agreements: list[Agreement]) -> list[DayConsumption]:
    days: dict[date, tuple[Decimal, bool]] = {}
    for agreement in agreements:
        start, end = _bounds(invoice, agreement)
        if start >= end:
            continue
        zone = ZoneInfo(agreement.meter_point.timezone)
        try:
            buckets = reading_series(
                meter_point=agreement.meter_point, period_from=start, period_to=end, group_by="DAY"
            )
        except (PeriodTooLong, ValueError):
            buckets = []
        for bucket in buckets:
            local = bucket.interval_start.astimezone(zone).date()
            kwh, estimated = days.get(local, (Decimal("0"), False))
            days[local] = (kwh + bucket.kwh, estimated or (bucket.quality or 0) > ACTUAL_QUALITY)
    return [DayConsumption(d, kwh, est) for d, (kwh, est) in sorted(days.items())]


def _bands(invoice: Invoice, agreements: list[Agreement]) -> list[BandUsage]:
    """kWh and average rate per announced band over the period: half-hourly readings × the rate (and band)
    the tariff gave each half-hour."""
    kwh_of: dict[str, Decimal] = {}
    cost_of: dict[str, Decimal] = {}
    for agreement in agreements:
        start, end = _bounds(invoice, agreement)
        if start >= end:
            continue
        try:
            buckets = reading_series(meter_point=agreement.meter_point, period_from=start, period_to=end)
            rates = unit_rates(tariff_code=agreement.import_tariff.code, period_from=start, period_to=end)
        except (PeriodTooLong, ValueError, ValidationError, DomainError):
            continue
        rate_at = {rate.valid_from: rate for rate in rates}
        announced = announced_bands(
            tariff_code=agreement.import_tariff.code, period_from=start, period_to=end
        )
        for bucket in buckets:
            rate = rate_at.get(bucket.interval_start)
            if rate is None:
                continue
            band = announced.get(bucket.interval_start) or rate.band or "Rate"
            kwh_of[band] = kwh_of.get(band, Decimal("0")) + bucket.kwh
            cost_of[band] = cost_of.get(band, Decimal("0")) + bucket.kwh * rate.value_per_kwh
    order = {"Low": 0, "Normal": 1, "High": 2}
    return [
        BandUsage(
            band,
            kwh_of[band],
            (cost_of[band] / kwh_of[band]).quantize(_MICRO, ROUND_HALF_UP) if kwh_of[band] else Decimal("0"),
            cost_of[band].quantize(Decimal("0.01"), ROUND_HALF_UP),
        )
        for band in sorted(kwh_of, key=lambda b: (order.get(b, 9), b))
    ]


def _bill_lines(invoice: Invoice, agreements: list[Agreement]) -> list[BillLine]:
    out = []
    bands: list[BandUsage] | None = None
    for line in invoice.lines.all():
        if line.unit_price is not None:
            out.append(BillLine(line, line.unit_price, False))
            continue
        rate = (line.amount / line.quantity).quantize(_MICRO, ROUND_HALF_UP) if line.quantity else None
        if line.kind == InvoiceLine.Kind.ENERGY:
            if bands is None:
                bands = _bands(invoice, agreements)
            out.append(BillLine(line, rate, True, bands))
        else:
            out.append(BillLine(line, rate, rate is not None))
    return out


def account_position(invoice: Invoice) -> AccountPosition:
    """The account around this bill: the balance after the previous bill, payments and other credits since,
    this bill and the balance due after it (from the account statement)."""
    zero = Decimal("0.00")
    if invoice.issued_at is None:
        return AccountPosition(zero, zero, zero, invoice.total_amount, invoice.total_amount)
    lines: list[StatementLine] = account_statement(invoice.customer)
    index = next(
        (i for i, line in enumerate(lines) if line.kind == "INVOICE" and line.reference == invoice.number),
        None,
    )
    if index is None:
        return AccountPosition(zero, zero, zero, invoice.total_amount, invoice.total_amount)
    previous = max((i for i in range(index) if lines[i].kind == "INVOICE"), default=None)
    previous_balance = lines[previous].balance if previous is not None else zero
    between = lines[(previous + 1 if previous is not None else 0) : index]
    payments = sum((-line.amount for line in between if line.kind == "PAYMENT"), zero)
    other = sum((line.amount for line in between if line.kind != "PAYMENT"), zero)
    return AccountPosition(previous_balance, payments, other, invoice.total_amount, lines[index].balance)


@dataclass(frozen=True)
class BillSummary:
    """The parts of a bill beyond its lines and taxes, for the API (no readings are read)."""

    supplier: Supplier
    supply_points: list[SupplyPoint]
    issue_date: date | None
    due_date: date | None
    payment_terms_days: int
    position: AccountPosition


def _supply_points(agreements: list[Agreement]) -> list[SupplyPoint]:
    return [
        SupplyPoint(
            mpan=a.meter_point.identifier,
            tariff_code=a.import_tariff.code,
            tariff_name=a.import_tariff.name,
            export_tariff_name=a.export_tariff.name if a.export_tariff else "",
            timezone=a.meter_point.timezone,
        )
        for a in agreements
    ]


def bill_summary(*, invoice: Invoice) -> BillSummary:
    """Supplier, supply points (MPAN, tariff), issue and due dates, terms and account position of a bill."""
    return BillSummary(
        supplier=supplier(),
        supply_points=_supply_points(_agreements(invoice)),
        issue_date=invoice.issued_at.date() if invoice.issued_at else None,
        due_date=invoice_due_date(invoice),
        payment_terms_days=payment_terms_days(invoice),
        position=account_position(invoice),
    )


def bill_document(*, invoice: Invoice) -> BillDocument:
    """The bill of `invoice` as its documents show it."""
    agreements = _agreements(invoice)
    return BillDocument(
        supplier=supplier(),
        invoice=invoice,
        customer=invoice.customer,
        supply_points=_supply_points(agreements),
        lines=_bill_lines(invoice, agreements),
        taxes=sorted(invoice.taxes.all(), key=lambda tax: (tax.name, tax.rate)),
        consumption=_consumption(invoice, agreements),
        issue_date=invoice.issued_at.date() if invoice.issued_at else None,
        due_date=invoice_due_date(invoice),
        payment_terms_days=payment_terms_days(invoice),
        position=account_position(invoice),
        charts=invoice_charts(invoice=invoice),
    )
