"""What runs on a network: power-flow runs and their violations, shedding plans, dispatches, scenarios."""

from django.conf import settings
from django.db import models

from core.models import JobStatus
from grid.models.network import Load, Network


class PowerFlowRun(models.Model):
    """One power flow, a day of steps or an N-1 study, with its summary; violations are rows of their own."""

    class Kind(models.TextChoices):
        SINGLE = "SINGLE", "Single"
        HORIZON = "HORIZON", "Steps over a horizon"
        N_MINUS_1 = "N_MINUS_1", "N-1 over MV lines"

    class LoadSource(models.TextChoices):
        STORED = "STORED", "Stored load values"
        MEASURED = "MEASURED", "Measured aggregates"
        FORECAST = "FORECAST", "Forecasts"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    load_source = models.CharField(max_length=10, choices=LoadSource.choices, default=LoadSource.STORED)
    as_of = models.DateTimeField(help_text="Topology instant the net was rebuilt for.")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    steps = models.PositiveIntegerField(default=1)
    load_scale = models.FloatField(default=1.0)
    sgen_scale = models.FloatField(default=1.0)
    converged = models.BooleanField(default=True)
    buses = models.PositiveIntegerField(default=0)
    min_vm_pu = models.FloatField(null=True, blank=True)
    max_vm_pu = models.FloatField(null=True, blank=True)
    max_line_loading_percent = models.FloatField(null=True, blank=True)
    violation_count = models.PositiveIntegerField(default=0)
    power_flows = models.PositiveIntegerField(default=1)
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return (
            f"{self.network} {self.kind} {self.created_at:%Y-%m-%d %H:%M} ({self.violation_count} violations)"
        )


class Violation(models.Model):
    """A limit broken in a run: at a step (interval start) and, for N-1, with one element out."""

    class Kind(models.TextChoices):
        OVERLOAD = "OVERLOAD", "Overload"
        UNDERVOLTAGE = "UNDERVOLTAGE", "Undervoltage"
        OVERVOLTAGE = "OVERVOLTAGE", "Overvoltage"
        NOT_CONVERGED = "NOT_CONVERGED", "Power flow did not converge"

    run = models.ForeignKey(PowerFlowRun, on_delete=models.CASCADE, related_name="violations")
    interval_start = models.DateTimeField(null=True, blank=True)
    contingency = models.CharField(max_length=200, blank=True, help_text="Element out of service (N-1).")
    element = models.CharField(max_length=220, help_text="line:NAME, trafo:NAME or bus:NAME.")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    value = models.FloatField()
    limit = models.FloatField()

    def __str__(self) -> str:
        return f"{self.element} {self.kind} {self.value:.3f} > {self.limit:.3f}"


class SheddingPlan(models.Model):
    """Loads to shed so that every violation clears, lowest priority first, critical loads never."""

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", "Proposed"
        APPROVED = "APPROVED", "Approved"
        DISPATCHED = "DISPATCHED", "Dispatched"
        RESTORED = "RESTORED", "Restored"
        REJECTED = "REJECTED", "Rejected"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="shedding_plans")
    run = models.ForeignKey(PowerFlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    feasible = models.BooleanField(
        help_text="False when no plan clears every violation without critical loads."
    )
    message = models.TextField(blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    load_scale = models.FloatField(default=1.0)
    sgen_scale = models.FloatField(default=1.0)
    violations_before = models.PositiveIntegerField()
    violations_after = models.PositiveIntegerField()
    shed_mw = models.FloatField()
    critical_shed = models.PositiveIntegerField(default=0)
    power_flows = models.PositiveIntegerField()
    seconds = models.FloatField()
    created_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"plan {self.pk} {self.network} {self.shed_mw:.3f} MW ({self.status})"


class SheddingPlanLoad(models.Model):
    plan = models.ForeignKey(SheddingPlan, on_delete=models.CASCADE, related_name="loads")
    load = models.ForeignKey(Load, on_delete=models.CASCADE, related_name="+")
    load_name = models.CharField(max_length=200)
    priority = models.PositiveSmallIntegerField()
    p_mw = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "load"], name="grid_plan_load_uniq")]

    def __str__(self) -> str:
        return f"{self.load_name} {self.p_mw:.3f} MW"


class Dispatch(models.Model):
    """A plan sent out as per-load instructions (shed), and later its restore."""

    class Kind(models.TextChoices):
        SHED = "SHED", "Shed"
        RESTORE = "RESTORE", "Restore"

    class Status(models.TextChoices):
        SENDING = "SENDING", "Sending"
        ACKNOWLEDGED = "ACKNOWLEDGED", "All acknowledged"
        PARTIAL = "PARTIAL", "Some not acknowledged"

    plan = models.ForeignKey(SheddingPlan, on_delete=models.CASCADE, related_name="dispatches")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENDING)
    topic_prefix = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "kind"], name="grid_dispatch_plan_kind_uniq")]

    def __str__(self) -> str:
        return f"{self.kind} plan {self.plan_id} ({self.status})"


class DispatchInstruction(models.Model):
    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="instructions")
    load = models.ForeignKey(Load, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=300)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.topic


class Scenario(models.Model):
    """A day of steps under a stress (heat wave, cloudy day, outage, maintenance, evening ramp)."""

    class Kind(models.TextChoices):
        HEAT_WAVE = "HEAT_WAVE", "Heat wave"
        CLOUDY_DAY = "CLOUDY_DAY", "Cloudy day"
        OUTAGE = "OUTAGE", "Outage"
        MAINTENANCE = "MAINTENANCE", "Planned maintenance"
        EVENING_RAMP = "EVENING_RAMP", "Evening ramp"

    Status = JobStatus

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="scenarios")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    day_start = models.DateTimeField(help_text="UTC start of the day simulated.")
    steps = models.PositiveSmallIntegerField(default=96)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    violation_steps = models.PositiveSmallIntegerField(default=0)
    peak_shed_mw = models.FloatField(default=0.0)
    plan = models.ForeignKey(SheddingPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.network} {self.day_start:%Y-%m-%d}"


class ScenarioStep(models.Model):
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="step_results")
    interval_start = models.DateTimeField()
    converged = models.BooleanField(default=True)
    load_mw = models.FloatField()
    pv_mw = models.FloatField()
    min_vm_pu = models.FloatField(null=True, blank=True)
    max_line_loading_percent = models.FloatField(null=True, blank=True)
    violation_count = models.PositiveIntegerField()
    violations = models.JSONField(default=list)
    shed_mw = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scenario", "interval_start"], name="grid_scenario_step_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id} {self.interval_start:%H:%M}"
