"""Battery assets behind meter points, feeder limits, schedule runs and their rows, balancing runs."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from grid.models.operations import Scenario
from metering.models import MeterPoint


class FeederLimit(models.Model):
    """The net flow a feeder may carry: import (towards customers) and export limits in kW."""

    feeder_code = models.CharField(max_length=32, unique=True)
    import_limit_kw = models.DecimalField(max_digits=10, decimal_places=2)
    export_limit_kw = models.DecimalField(max_digits=10, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(import_limit_kw__gte=0) & Q(export_limit_kw__gte=0),
                name="feeder_limit_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feeder_code} ({self.import_limit_kw}/{self.export_limit_kw} kW)"


class BatteryAsset(models.Model):
    """A battery behind a meter point (its feeder is the meter point's); PV behind the same meter."""

    code = models.CharField(max_length=64, unique=True, help_text="Unit id, also its MQTT topic segment.")
    meter_point = models.ForeignKey(MeterPoint, on_delete=models.PROTECT, related_name="batteries")
    capacity_kwh = models.DecimalField(max_digits=8, decimal_places=2)
    power_kw = models.DecimalField(max_digits=8, decimal_places=2)
    efficiency_charge = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.950"))
    efficiency_discharge = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.950"))
    soc_min_kwh = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    soc_max_kwh = models.DecimalField(max_digits=8, decimal_places=2)
    soc_initial_kwh = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="State of charge at the start of the next schedule."
    )
    degradation_cost_per_kwh = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    min_power_kw = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=0,
        help_text="When charging or discharging, at least this power (0 = any); scheduled with binaries.",
    )
    pv_peak_kw = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=0,
        help_text="PV behind the meter, used to shape its profile when no PV forecast exists.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity_kwh__gt=0) & Q(power_kw__gt=0), name="battery_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_power_kw__gte=0) & Q(min_power_kw__lte=F("power_kw")),
                name="battery_min_power_within_power",
            ),
            models.CheckConstraint(
                condition=Q(efficiency_charge__gt=0)
                & Q(efficiency_charge__lte=1)
                & Q(efficiency_discharge__gt=0)
                & Q(efficiency_discharge__lte=1),
                name="battery_efficiency_in_unit_interval",
            ),
            models.CheckConstraint(
                condition=Q(soc_min_kwh__gte=0)
                & Q(soc_min_kwh__lte=F("soc_max_kwh"))
                & Q(soc_max_kwh__lte=F("capacity_kwh"))
                & Q(soc_initial_kwh__gte=F("soc_min_kwh"))
                & Q(soc_initial_kwh__lte=F("soc_max_kwh")),
                name="battery_soc_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ScheduleRun(models.Model):
    """One optimisation of the fleet over `[period_start, period_end)`."""

    class Kind(models.TextChoices):
        DAY_AHEAD = "DAY_AHEAD", "Day ahead"
        INTRADAY = "INTRADAY", "Intraday"
        WHAT_IF = "WHAT_IF", "What if"

    class Status(models.TextChoices):
        OPTIMAL = "OPTIMAL", "Optimal"
        RUNNING = "RUNNING", "Subproblems being solved by workers"
        TIME_LIMIT = "TIME_LIMIT", "Stopped at the time limit with a feasible schedule"
        INFEASIBLE = "INFEASIBLE", "Infeasible"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    tariff_code = models.CharField(max_length=64)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    inputs_sha256 = models.CharField(max_length=64, help_text="Same inputs, same run: reruns return it.")
    status = models.CharField(max_length=10, choices=Status.choices)
    message = models.TextField(blank=True)
    objective = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    units = models.PositiveIntegerField(default=0)
    intervals = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    self_consumption_without_pct = models.FloatField(null=True, blank=True)
    self_consumption_with_pct = models.FloatField(null=True, blank=True)
    feeders_coupled = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    acknowledged_units = models.PositiveIntegerField(default=0)
    jobs_total = models.PositiveIntegerField(default=0, help_text="Subproblems (feeders, blocks of units).")
    jobs_done = models.PositiveIntegerField(default=0, help_text="Subproblems solved so far (progress).")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="schedule_run_period"),
            models.UniqueConstraint(fields=["kind", "inputs_sha256"], name="schedule_run_inputs_unique"),
        ]
        indexes = [models.Index(fields=["period_start", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start:%Y-%m-%d %H:%M} #{self.pk}"


class ScheduleInterval(models.Model):
    """One unit's set points in one interval of a run (written in bulk)."""

    run = models.ForeignKey(ScheduleRun, on_delete=models.CASCADE, related_name="rows")
    asset = models.ForeignKey(BatteryAsset, on_delete=models.CASCADE, related_name="schedule_rows")
    interval_start = models.DateTimeField()
    charge_kw = models.FloatField()
    discharge_kw = models.FloatField()
    soc_kwh = models.FloatField(help_text="State of charge at the end of the interval.")
    pv_kw = models.FloatField(default=0)
    load_kw = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "asset", "interval_start"], name="schedule_interval_unique"
            )
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} asset {self.asset_id} {self.interval_start:%Y-%m-%d %H:%M}"


class BalancingRun(models.Model):
    """Price adders chosen so forecast feeder load stays within limits, and what they did to the peak."""

    tariff_code = models.CharField(max_length=64)
    day = models.DateField()
    status = models.CharField(max_length=16)  # within_limits | peak_reduced | published
    adders = models.JSONField(
        default=list, help_text="[{intervalStart, adderPerKwh}] in the tariff's currency."
    )
    feeder_peaks = models.JSONField(default=dict, help_text="{feeder: {limitKw, beforeKw, afterKw}}.")
    peak_before_kw = models.FloatField()
    peak_after_kw = models.FloatField()
    shed_kwh_without_signal = models.FloatField(
        default=0, help_text="Energy load shedding would cut to meet the limits without the price signal."
    )
    shed_kwh_with_signal = models.FloatField(
        default=0, help_text="Energy load shedding would still cut with the price signal."
    )
    valley_fill_kwh = models.FloatField(
        default=0, help_text="Energy the Low bands pull into the night valley (after − before there)."
    )
    publication_revision = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"balancing {self.tariff_code} {self.day} #{self.pk}"


class ScenarioBalancing(models.Model):
    """What price balancing and the battery fleet would do in a grid scenario, next to its shedding plan."""

    scenario = models.OneToOneField(Scenario, on_delete=models.CASCADE, related_name="balancing")
    bands = models.JSONField(default=list, help_text="The band chosen for each step (Low/Normal/High).")
    battery_mw = models.JSONField(default=list, help_text="Fleet power per step, MW (+ discharge, − charge).")
    units = models.PositiveIntegerField(default=0, help_text="Batteries on the network's mapped feeders.")
    peak_base_mw = models.FloatField(help_text="The scenario's peak load, MW.")
    target_mw = models.FloatField(help_text="The load the shedding plan brings the worst step down to.")
    shed_mw = models.FloatField(default=0, help_text="The shedding plan's cut at the worst step.")
    peak_with_balancing_mw = models.FloatField()
    peak_with_storage_mw = models.FloatField(help_text="With price balancing and the batteries.")
    residual_shed_mw = models.FloatField(
        default=0, help_text="What shedding still cuts at the worst step with balancing and batteries."
    )
    battery_discharge_mwh = models.FloatField(default=0)
    battery_charge_mwh = models.FloatField(default=0)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"balancing of scenario {self.scenario_id}"
