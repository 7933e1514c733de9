"""Markets and their prices, tariffs as versioned documents, pricing events, published dynamic rates and
the hash-chained ledger of publications.

Published tariff versions and published rates are immutable: the services never update them, the admin
shows them read-only and, on PostgreSQL, triggers refuse UPDATE and DELETE (migrations/0002).
"""

from django.db import models
from django.db.models import F, Q


class Market(models.Model):
    """A wholesale market with its own currency, zone, interval length and day-ahead timetable."""

    code = models.CharField(max_length=20, unique=True, help_text="e.g. DE-LU, GB, ERCOT, CAISO-NP15.")
    name = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    timezone = models.CharField(max_length=64)
    interval_minutes = models.PositiveSmallIntegerField(default=60)
    day_ahead_results_at = models.TimeField(
        help_text="Local time at which the day-ahead auction results for the next day arrive."
    )
    feed_adapter = models.CharField(max_length=40, default="file", help_text="Adapter that fetches prices.")
    feed_config = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.code


class MarketPrice(models.Model):
    """The price of one market interval [interval_start, interval_end) in UTC; may be negative."""

    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="prices")
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    price_per_mwh = models.DecimalField(max_digits=14, decimal_places=4)
    received_at = models.DateTimeField()
    revised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["market", "interval_start"], name="market_price_interval_uniq"),
            models.CheckConstraint(
                condition=Q(interval_end__gt=F("interval_start")), name="market_price_interval_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.market_id} {self.interval_start:%Y-%m-%d %H:%M} {self.price_per_mwh}"


class MarketPriceRevision(models.Model):
    """A price that was replaced after its interval had settled: kept and flagged for staff."""

    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    interval_start = models.DateTimeField()
    old_price_per_mwh = models.DecimalField(max_digits=14, decimal_places=4)
    new_price_per_mwh = models.DecimalField(max_digits=14, decimal_places=4)
    settled = models.BooleanField(help_text="Whether the interval had ended when the change arrived.")
    superseded_at = models.DateTimeField()
    reviewed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.market_id} {self.interval_start:%Y-%m-%d %H:%M}: {self.old_price_per_mwh} → {self.new_price_per_mwh}"  # noqa: E501


class TariffDirection(models.TextChoices):
    IMPORT = "IMPORT", "Import"
    EXPORT = "EXPORT", "Export"


class Tariff(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    direction = models.CharField(
        max_length=6, choices=TariffDirection.choices, default=TariffDirection.IMPORT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class TariffVersion(models.Model):
    """One tariff document (TARIFFS.md, `tariff/v1`) valid over [valid_from, valid_to); immutable."""

    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="versions")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    document = models.JSONField()
    kind = models.CharField(max_length=10, help_text="The energy charge kind, from the document.")
    document_sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="tariff_version_period_not_empty",
            ),
        ]
        indexes = [models.Index(fields=["tariff", "valid_from"], name="tariff_version_from")]

    def __str__(self) -> str:
        return f"{self.tariff_id} from {self.valid_from:%Y-%m-%d}"


class PricingEvent(models.Model):
    """A critical-peak or emergency window during which the tariffs' event rates apply."""

    class Kind(models.TextChoices):
        CRITICAL_PEAK = "CRITICAL_PEAK", "Critical peak"
        EMERGENCY = "EMERGENCY", "Emergency"

        @property
        def document_key(self) -> str:
            """The kind's key under a tariff document's `events`, and its rate band (TARIFFS.md)."""
            return self.value.lower()

    kind = models.CharField(max_length=14, choices=Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    tariffs = models.ManyToManyField(Tariff, related_name="events")
    declared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="pricing_event_not_empty")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


class RatePublication(models.Model):
    """The dynamic rates of one tariff for one local day, as published; a correction is a new revision."""

    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="publications")
    tariff_version = models.ForeignKey(TariffVersion, on_delete=models.PROTECT, related_name="publications")
    day = models.DateField(help_text="Local date in the tariff's zone.")
    revision = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tariff", "day", "revision"], name="publication_revision_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.tariff_id} {self.day} r{self.revision}"


class PublishedRate(models.Model):
    """One interval's published unit rate with the breakdown of what each pricing rule contributed."""

    publication = models.ForeignKey(RatePublication, on_delete=models.PROTECT, related_name="rates")
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    rate_per_kwh = models.DecimalField(max_digits=12, decimal_places=6)
    breakdown = models.JSONField(help_text="Ordered [{rule, per_kwh}] steps that produced the rate.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "interval_start"], name="published_rate_interval_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} {self.interval_start:%H:%M} {self.rate_per_kwh}"


class LedgerEntry(models.Model):
    """One link of the tamper-evident chain of publications.

    entry_sha256 = SHA-256(previous_sha256 || content_sha256 || sequence); content_sha256 is the hash of
    the publication's canonical content. Unique `sequence` and unique `previous_sha256` mean two
    publishers can never append to the same head (no fork).
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    publication = models.OneToOneField(RatePublication, on_delete=models.PROTECT, related_name="ledger_entry")
    content_sha256 = models.CharField(max_length=64)
    previous_sha256 = models.CharField(max_length=64, unique=True)
    entry_sha256 = models.CharField(max_length=64, unique=True)
    entry_hmac = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="HMAC-SHA256(PRICE_LEDGER_HMAC_KEY, sequence|entry hash); empty on older entries.",
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"#{self.sequence} {self.entry_sha256[:12]}"
