"""Customers, agreements, bill runs, invoices with lines, credit notes and partial credits (adjustments),
payments and webhook deliveries.

Issued invoices are immutable: services never change them (a correction is a credit note plus a new
invoice), the admin shows them read-only and, on PostgreSQL, triggers refuse changes (migrations/0003).
"""

from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import Combinable

from billing.currencies import STORED_PLACES, quantum
from core.models import JobStatus

account_number_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{2,31}$", "Account numbers are 3-32 characters: capital letters, digits and '-'."
)


def _money_field(**kwargs: Any) -> "models.DecimalField[str | float | Decimal | Combinable, Decimal]":
    """An amount column: up to 3 decimals (KWD); the row's currency says how many it has (ISO 4217)."""
    return models.DecimalField(max_digits=15, decimal_places=STORED_PLACES, **kwargs)


class MoneyRow(models.Model):
    """A row with amounts in its `currency`: loaded amounts have the currency's decimals (JPY 884, GBP
    52.75, KWD 0.003), not the column's three."""

    money_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any
    ) -> Self:
        instance = super().from_db(db, field_names, values, **kwargs)
        currency = instance.__dict__.get("currency")
        if currency:
            unit = quantum(currency)
            for name in cls.money_fields:
                value = instance.__dict__.get(name)
                if value is not None:
                    # Exact: stored amounts were rounded to the currency's unit before they were saved.
                    instance.__dict__[name] = value.quantize(unit)
        return instance


class InvoicePartRow(MoneyRow):
    """A line or tax of an invoice: its currency is the invoice's."""

    currency: str
    invoice: "Invoice"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.currency:
            self.currency = self.invoice.currency
        super().save(*args, **kwargs)


class Customer(models.Model):
    """A billed account. Personal data is limited to what billing and the portal need."""

    account_number = models.CharField(max_length=32, unique=True, validators=[account_number_validator])
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        help_text="The portal login of this customer.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.account_number} {self.name}"


class Agreement(models.Model):
    """Supply of a meter point to a customer under an import (and optional export) tariff, over
    [valid_from, valid_to); agreements of one meter point never overlap."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="agreements")
    meter_point = models.ForeignKey(
        "metering.MeterPoint", on_delete=models.PROTECT, related_name="agreements"
    )
    import_tariff = models.ForeignKey("pricing.Tariff", on_delete=models.PROTECT, related_name="+")
    export_tariff = models.ForeignKey(
        "pricing.Tariff", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days from issue to the due date; empty: the BILLING_PAYMENT_TERMS_DAYS setting.",
    )
    minimum_charge_per_month = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The least the agreement bills per month before tax, prorated by day (docs/billing.md).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="agreement_period_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(minimum_charge_per_month__isnull=True) | Q(minimum_charge_per_month__gte=0),
                name="agreement_minimum_charge_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.meter_point_id} from {self.valid_from:%Y-%m-%d}"


class BillRun(models.Model):
    """Billing of a period [period_start, period_end) (local dates) for all or some accounts."""

    Status = JobStatus

    client = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Who started it (API application, user or the scheduler): idempotency keys are theirs.",
    )
    idempotency_key = models.CharField(max_length=128)
    period_start = models.DateField()
    period_end = models.DateField()
    account_numbers = models.JSONField(null=True, blank=True, help_text="Only these accounts; all if empty.")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_done = models.PositiveIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    held_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="bill_run_period_not_empty"
            ),
            models.UniqueConstraint(fields=["client", "idempotency_key"], name="bill_run_key_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end} ({self.status})"


class BillRunItem(models.Model):
    """The outcome of one account in one bill run: invoiced, held (with the reason) or failed."""

    class Outcome(models.TextChoices):
        INVOICED = "INVOICED"
        HELD = "HELD"
        FAILED = "FAILED"

    bill_run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bill_run", "customer"], name="bill_run_item_once")]

    def __str__(self) -> str:
        return f"{self.bill_run_id}/{self.customer_id} {self.outcome}"


class Invoice(MoneyRow):
    money_fields = ("net_amount", "tax_amount", "total_amount")

    class Status(models.TextChoices):
        DRAFT = "DRAFT"
        ISSUED = "ISSUED"
        VOID = "VOID"

    number = models.CharField(
        max_length=20, unique=True, null=True, blank=True, help_text="From a gap-free sequence, at issue."
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    bill_run = models.ForeignKey(
        BillRun, on_delete=models.PROTECT, related_name="invoices", null=True, blank=True
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    net_amount = _money_field()
    tax_amount = _money_field()
    total_amount = _money_field()
    readings_as_of = models.DateTimeField(help_text="Readings received up to this time were billed.")
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text="The voided invoice this one corrects (re-bill).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(
        null=True, blank=True, help_text="Set at issue: the issue date plus the agreement's payment terms."
    )

    class Meta:
        # total = net + tax is checked on PostgreSQL only (migrations/0003): SQLite would compare floats.
        constraints = [
            # One live invoice per account and period, whatever runs race; a voided one may be re-billed.
            models.UniqueConstraint(
                fields=["customer", "period_start", "period_end"],
                condition=~Q(status="VOID"),
                name="invoice_one_per_account_period",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.pk}"

    @property
    def period_last_day(self) -> date:
        """The last local date billed: the period is [period_start, period_end)."""
        return self.period_end - timedelta(days=1)


class InvoiceLine(InvoicePartRow):
    money_fields = ("amount",)

    class Kind(models.TextChoices):
        ENERGY = "ENERGY"
        STANDING_CHARGE = "STANDING_CHARGE"
        DEMAND = "DEMAND"
        EVENT = "EVENT"
        EXPORT_CREDIT = "EXPORT_CREDIT"
        ADJUSTMENT = "ADJUSTMENT"
        MINIMUM_CHARGE = "MINIMUM_CHARGE"
        RIDER = "RIDER"
        P2P_PURCHASE = "P2P_PURCHASE"
        P2P_SALE = "P2P_SALE"
        P2P_FEE = "P2P_FEE"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    band = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=16, decimal_places=4)
    unit = models.CharField(max_length=8, help_text="kWh, day or kW.")
    unit_price = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=3, default="", help_text="The invoice's currency.")
    amount = _money_field()
    tariff_version = models.ForeignKey(
        "pricing.TariffVersion", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    estimated = models.BooleanField(default=False, help_text="Includes estimated readings.")

    def __str__(self) -> str:
        return f"{self.kind} {self.band} {self.amount}"


class InvoiceTax(InvoicePartRow):
    """One tax of an invoice (TARIFFS.md): for each distinct (name, rate) among the tax rules of the tariff
    versions its lines came from, `base_amount` is the sum of those lines' amounts and `amount` is
    ROUND_HALF_UP(base_amount × rate) to the currency's minor unit. The invoice's `tax_amount` is the sum of
    its taxes' amounts."""

    money_fields = ("base_amount", "amount")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="taxes")
    name = models.CharField(max_length=100)
    rate = models.DecimalField(max_digits=7, decimal_places=6, help_text="A fraction: 0.05 is 5 %.")
    currency = models.CharField(max_length=3, default="", help_text="The invoice's currency.")
    base_amount = _money_field()
    amount = _money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "name", "rate"], name="invoice_tax_once_per_name_rate")
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.rate_percent}% on {self.base_amount}: {self.amount}"

    @property
    def rate_percent(self) -> str:
        """The rate as a percentage without trailing zeros: 0.050000 -> "5", 0.175000 -> "17.5"."""
        text = f"{self.rate * 100:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


class InvoiceNumberSeries(models.Model):
    """A gap-free counter: the number is taken in the issuing transaction, under a row lock."""

    prefix = models.CharField(max_length=8, unique=True)
    next_value = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.prefix}{self.next_value}"


class CreditNote(MoneyRow):
    """Cancels an issued invoice: what its adjustments (partial credits) left of it; the invoice becomes
    VOID."""

    money_fields = ("net_amount", "tax_amount", "total_amount")

    number = models.CharField(max_length=20, unique=True)
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    reason = models.CharField(max_length=300)
    currency = models.CharField(max_length=3, default="", help_text="The invoice's currency.")
    net_amount = _money_field()
    tax_amount = _money_field()
    total_amount = _money_field()
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.number


class InvoiceAdjustment(MoneyRow):
    """A partial credit note: lowers what an issued invoice charges by up to what remains creditable (its
    total less earlier adjustments); the invoice itself stays ISSUED and unchanged. Numbered from the credit
    note series. A later void credits only what remains."""

    money_fields = ("net_amount", "tax_amount", "total_amount")

    number = models.CharField(max_length=20, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="adjustments")
    reason = models.CharField(max_length=300)
    idempotency_key = models.CharField(
        max_length=128, help_text="The caller's key: the same key again returns this adjustment."
    )
    currency = models.CharField(max_length=3)
    net_amount = _money_field()
    tax_amount = _money_field()
    total_amount = _money_field()
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="invoice_adjustment_positive"),
            models.UniqueConstraint(
                fields=["invoice", "idempotency_key"], name="invoice_adjustment_key_once"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceAdjustmentLine(MoneyRow):
    """The part of an adjustment's net amount that credits one line of the invoice."""

    money_fields = ("amount",)

    adjustment = models.ForeignKey(InvoiceAdjustment, on_delete=models.PROTECT, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = _money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["adjustment", "invoice_line"], name="adjustment_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.adjustment_id}/{self.invoice_line_id} {self.amount}"


class Payment(MoneyRow):
    """Money received from a customer, recorded by the billing system (`paymentRecord`) or staff.

    The external reference is the payer's/processor's id: one payment per customer and reference, so
    recording it again is a no-op."""

    money_fields = ("amount",)

    class Method(models.TextChoices):
        DIRECT_DEBIT = "DIRECT_DEBIT"
        CARD = "CARD"
        BANK_TRANSFER = "BANK_TRANSFER"
        CASH = "CASH"
        OTHER = "OTHER"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    amount = _money_field()
    currency = models.CharField(max_length=3)
    received_date = models.DateField(help_text="The day the money arrived (counted from 00:00 UTC).")
    method = models.CharField(max_length=13, choices=Method.choices)
    external_reference = models.CharField(max_length=100)
    recorded_by = models.CharField(
        max_length=100, blank=True, default="", help_text="The API client, user or admin that recorded it."
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["customer", "external_reference"], name="payment_reference_once_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_reference} {self.amount} {self.currency}"


class WebhookDelivery(models.Model):
    """A signed notification to the billing system; retried with back-off until delivered."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        DELIVERED = "DELIVERED"
        FAILED = "FAILED"

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class TariffComparisonRun(models.Model):
    """A stored tariff comparison (billing.services.comparison) computed by a Celery task, with progress:
    `progress_done` of `progress_total` accounts; `results` holds one JSON result per scenario
    (summaries per tariff and every account's bill per tariff)."""

    Status = JobStatus

    tariff_codes = models.JSONField()
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive: the period is [period_start, period_end).")
    cohort = models.JSONField(
        help_text="feeder_code, tariff_code, account_numbers (all null: every account)."
    )
    scenarios = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"comparison {self.pk} {self.period_start}–{self.period_end} {', '.join(self.tariff_codes)}"


class TariffComparisonChunk(models.Model):
    """One chunk of a fanned-out comparison run, stored by the Celery task that computed it: per scenario
    its accounts' bills, held reasons and prosumer energy (`tallies`); one row per (run, index), so a
    retried chunk replaces nothing and counts once. The run's statistics are computed over all chunks."""

    run = models.ForeignKey(TariffComparisonRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    accounts = models.PositiveIntegerField()
    tallies = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="tariff_comparison_chunk_once"),
        ]

    def __str__(self) -> str:
        return f"comparison {self.run_id} chunk {self.index}"
