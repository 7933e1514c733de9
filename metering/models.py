"""Meter points, meters, interval readings and their history, aggregates and data issues.

Readings are the largest table: on PostgreSQL it is partitioned by month on `interval_start`, with the
natural key `(meter_id, interval_start)` as its primary key (see migrations/0002). Django addresses rows by
`id` (an identity column, unique by construction) so that the admin can list them.
"""

from django.db import models
from django.db.models import F, Q


class HeatingType(models.TextChoices):
    HEAT_PUMP = "HEAT_PUMP", "Heat pump"
    GAS = "GAS", "Gas"
    ELECTRIC_STORAGE = "ELECTRIC_STORAGE", "Electric storage"
    OTHER = "OTHER", "Other"


class MeterPoint(models.Model):
    """A supply point at a premise; its attributes drive consumption and its zone defines local time."""

    identifier = models.CharField(max_length=64, unique=True)
    timezone = models.CharField(max_length=64, default="Europe/London", help_text="IANA time zone.")
    feeder_code = models.CharField(max_length=32, blank=True, db_index=True)
    region_code = models.CharField(max_length=32, blank=True, db_index=True)
    heating_type = models.CharField(max_length=20, choices=HeatingType.choices, default=HeatingType.GAS)
    residents = models.PositiveSmallIntegerField(default=2)
    has_pv = models.BooleanField(default=False)
    has_battery = models.BooleanField(default=False)
    max_power_kw = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=100,
        help_text="Connection capacity; a reading above it for its interval is implausible.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.identifier


class Direction(models.TextChoices):
    """IMPORT and EXPORT are the supply meters billing bills; GENERATION (value "GEN") is a PV generation
    meter measuring what the panels produced (self-consumed + exported), which billing never bills but uses
    for prosumers' self-sufficiency and self-consumption (docs/tariff-analytics.md)."""

    IMPORT = "IMPORT", "Import"
    EXPORT = "EXPORT", "Export"
    GENERATION = "GEN", "Generation (PV)"


class Meter(models.Model):
    """A physical meter at a meter point over `[installed_at, removed_at)`."""

    meter_point = models.ForeignKey(MeterPoint, on_delete=models.PROTECT, related_name="meters")
    serial = models.CharField(max_length=64, unique=True)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.IMPORT)
    resolution_minutes = models.PositiveSmallIntegerField(default=30)
    installed_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_at__gt=F("installed_at")),
                name="meter_removed_after_installed",
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__in=[5, 10, 15, 30, 60]), name="meter_resolution_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} ({self.direction})"


class Quality(models.IntegerChoices):
    ACTUAL = 1, "Actual"
    ESTIMATED = 2, "Estimated"
    SUBSTITUTED = 3, "Substituted"


class Source(models.IntegerChoices):
    GRAPHQL = 1, "GraphQL"
    FILE = 2, "File import"
    MQTT = 3, "MQTT telemetry"
    SIMULATOR = 4, "Simulator"
    ESTIMATION = 5, "VEE estimation"


class Reading(models.Model):
    """The current value of one interval `[interval_start, interval_end)` of one meter (UTC)."""

    # The primary key (meter_id, interval_start) serves lookups by meter; no separate index. No database
    # foreign key either: a per-row check would double the cost of bulk ingest, and every ingest path
    # resolves the meter before writing (meters are never deleted: PROTECT).
    meter = models.ForeignKey(
        Meter, on_delete=models.PROTECT, related_name="readings", db_index=False, db_constraint=False
    )
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    energy_kwh = models.DecimalField(max_digits=14, decimal_places=4)
    quality = models.PositiveSmallIntegerField(choices=Quality.choices, default=Quality.ACTUAL)
    source = models.PositiveSmallIntegerField(choices=Source.choices)
    received_at = models.DateTimeField()
    revised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the value last changed after first receipt (billing re-checks).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meter", "interval_start"], name="reading_meter_interval_uniq"),
            models.CheckConstraint(condition=Q(energy_kwh__gte=0), name="reading_energy_non_negative"),
            models.CheckConstraint(
                condition=Q(interval_end__gt=F("interval_start")), name="reading_interval_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.interval_start:%Y-%m-%d %H:%M} {self.energy_kwh} kWh"


class ReadingDay(models.Model):
    """One meter's readings of one UTC day packed into arrays, in start order (PostgreSQL only).

    `starts` holds the readings' `interval_start` as 8-byte binary timestamps (µs since 2000-01-01,
    big-endian: `timestamptz_send`), `kwh_e4` their energy × 10⁴ as 8-byte big-endian integers (exact:
    readings are numeric with scale 4), `quality` 2-byte integers. Bill runs and tariff comparisons read
    these rows (48 per meter-day fewer than the readings, docs/metering.md "Reading days"). Every merge of
    readings rebuilds the days it wrote in the same transaction (`metering.ingest`), so a committed reading
    is always in its day's row; `reading_days_rebuild` repairs days written around the ingest (raw SQL).
    """

    pk = models.CompositePrimaryKey("meter_id", "day")
    meter = models.ForeignKey(
        Meter, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField(help_text="UTC date of the readings' interval_start.")
    starts = models.BinaryField()
    kwh_e4 = models.BinaryField()
    quality = models.BinaryField()
    reading_count = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"{self.meter_id} {self.day:%Y-%m-%d} ({self.reading_count} readings)"


class ReadingRevision(models.Model):
    """A value that a reading held before a later value replaced it: the history stays."""

    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="+", db_index=False)
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    energy_kwh = models.DecimalField(max_digits=14, decimal_places=4)
    quality = models.PositiveSmallIntegerField(choices=Quality.choices)
    source = models.PositiveSmallIntegerField(choices=Source.choices)
    received_at = models.DateTimeField()
    superseded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["meter", "interval_start"], name="revision_meter_interval")]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.interval_start:%Y-%m-%d %H:%M} was {self.energy_kwh} kWh"


class IngestBatch(models.Model):
    """The outcome of an ingest request with an idempotency key: the same client repeating the key gets it."""

    client = models.CharField(
        max_length=100, blank=True, default="", help_text="Whose key it is (API application or user)."
    )
    idempotency_key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "idempotency_key"], name="ingest_batch_key_per_client")
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class LoadAggregate(models.Model):
    """Energy per interval summed over a feeder or a region: the input of forecasting and pricing."""

    class Level(models.TextChoices):
        FEEDER = "FEEDER", "Feeder"
        REGION = "REGION", "Region"

    level = models.CharField(max_length=6, choices=Level.choices)
    code = models.CharField(max_length=32)
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    import_kwh = models.DecimalField(max_digits=18, decimal_places=4)
    export_kwh = models.DecimalField(max_digits=18, decimal_places=4)
    reading_count = models.PositiveIntegerField()
    estimated_count = models.PositiveIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "code", "interval_start"], name="aggregate_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.code} {self.interval_start:%Y-%m-%d %H:%M}"


class AggregateDirty(models.Model):
    """An interval of a feeder whose readings changed since the aggregates were last refreshed."""

    feeder_code = models.CharField(max_length=32)
    region_code = models.CharField(max_length=32)
    interval_start = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.feeder_code}/{self.region_code} {self.interval_start:%Y-%m-%d %H:%M}"


class DataIssue(models.Model):
    """Something VEE found that staff should look at: a gap, a spike, a stuck register."""

    class Kind(models.TextChoices):
        GAP = "GAP", "Gap"
        SPIKE = "SPIKE", "Spike"
        STUCK = "STUCK", "Stuck value"

    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        RESOLVED = "RESOLVED", "Resolved"

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="data_issues")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    detail = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    estimated = models.BooleanField(default=False, help_text="Whether VEE filled the gap with estimates.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meter", "kind", "starts_at"], name="data_issue_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.meter_id} from {self.starts_at:%Y-%m-%d %H:%M}"


class MqttDeadLetter(models.Model):
    """An MQTT message the ingest refused as a whole (malformed, too large, a serial that is not the
    topic's, or one the ingest failed on): kept for staff to inspect, then acknowledged to the broker."""

    received_at = models.DateTimeField()
    topic = models.CharField(max_length=512)
    serial = models.CharField(max_length=64, blank=True)
    code = models.CharField(max_length=32)
    reason = models.CharField(max_length=300)
    payload = models.BinaryField(help_text="The payload as received (the first bytes only when oversized).")
    payload_bytes = models.PositiveIntegerField(help_text="Size of the whole payload.")
    payload_sha256 = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="mqtt_dead_letter_received")]

    def __str__(self) -> str:
        return f"{self.code} on {self.topic} at {self.received_at:%Y-%m-%d %H:%M:%S}"
