"""Admin of networks (plot, export), loads and priorities, topology events, power-flow runs and their
violations (the staff alert list), shedding plans (approve), scenarios (charts)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.admin import ReadOnlyAdmin
from grid.models import (
    Load,
    Network,
    PowerFlowRun,
    Scenario,
    SheddingPlan,
    SheddingPlanLoad,
    TopologyEvent,
    Violation,
)
from grid.selectors.network import network_counts
from grid.selectors.plots import network_plot_svg, scenario_chart_svg
from grid.services.scenarios import scenario_create
from grid.services.shedding import shedding_plan_approve


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "source_reference", "min_vm_pu", "max_vm_pu", "created_at")
    search_fields = ("name", "source_reference")
    readonly_fields = ("source", "source_reference", "revision", "elements", "plot")
    fields = ("name", "source", "source_reference", "min_vm_pu", "max_vm_pu", "revision", "elements", "plot")

    @admin.display(description="Elements")
    def elements(self, obj: Network) -> str:
        return ", ".join(f"{v} {k}" for k, v in network_counts(network=obj).items())

    @admin.display(description="Single-line / geographic plot")
    def plot(self, obj: Network) -> str:
        return mark_safe(network_plot_svg(network=obj))  # noqa: S308 - our own SVG, names escaped


@admin.register(Load)
class LoadAdmin(admin.ModelAdmin):
    """Shedding priorities: 0 = critical (never shed), higher numbers shed first."""

    list_display = ("name", "network", "bus", "p_mw", "priority", "feeder_code", "meter_point", "in_service")
    list_editable = ("priority", "feeder_code")
    list_filter = ("network", "priority")
    search_fields = ("name", "feeder_code")
    raw_id_fields = ("meter_point",)
    fields = ("network", "name", "bus", "p_mw", "q_mvar", "priority", "feeder_code", "meter_point")
    readonly_fields = ("network", "name", "bus", "p_mw", "q_mvar")


@admin.register(TopologyEvent)
class TopologyEventAdmin(admin.ModelAdmin):
    list_display = (
        "network",
        "element_kind",
        "element_name",
        "element_index",
        "action",
        "effective_at",
        "reason",
    )
    list_filter = ("network", "element_kind", "action")
    date_hierarchy = "effective_at"


class ViolationInline(admin.TabularInline):
    model = Violation
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("interval_start", "contingency", "element", "kind", "value", "limit")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("interval_start", "element", "id")


class WithViolations(admin.SimpleListFilter):
    title = "violations"
    parameter_name = "violations"

    def lookups(self, request, model_admin):
        return (("yes", "With violations"), ("no", "Within limits"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(violation_count__gt=0)
        if self.value() == "no":
            return queryset.filter(violation_count=0)
        return queryset


@admin.register(PowerFlowRun)
class PowerFlowRunAdmin(ReadOnlyAdmin):
    """Runs with violations are the staff alert list: filter on 'with violations'."""

    list_display = (
        "created_at",
        "network",
        "kind",
        "load_source",
        "steps",
        "converged",
        "violation_count",
        "min_vm_pu",
        "max_line_loading_percent",
        "seconds",
    )
    list_filter = ("network", "kind", "converged", WithViolations)
    inlines = [ViolationInline]


class PlanLoadInline(admin.TabularInline):
    model = SheddingPlanLoad
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("load_name", "priority", "p_mw")
    readonly_fields = fields


@admin.register(SheddingPlan)
class SheddingPlanAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "network",
        "status",
        "feasible",
        "shed_mw",
        "violations_before",
        "violations_after",
        "power_flows",
        "seconds",
        "created_at",
    )
    list_filter = ("network", "status", "feasible")
    actions = ["approve"]
    inlines = [PlanLoadInline]
    readonly_fields = [f.name for f in SheddingPlan._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Approve the selected plans")
    def approve(self, request, queryset):
        for plan in queryset.order_by("id"):
            try:
                shedding_plan_approve(plan_id=plan.pk, user_id=request.user.pk, now=timezone.now())
            except Exception as error:  # a domain error: say which plan and go on
                self.message_user(request, f"plan {plan.pk}: {error}", messages.ERROR)


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "network",
        "kind",
        "day_start",
        "status",
        "violation_steps",
        "peak_shed_mw",
        "finished_at",
    )
    list_filter = ("network", "kind", "status")
    readonly_fields = ("status", "error", "violation_steps", "peak_shed_mw", "plan", "finished_at", "charts")
    fields = ("network", "kind", "day_start", "parameters", *readonly_fields)

    def save_model(self, request, obj, form, change):
        """A new scenario is recorded and run on the grid queue by the scenario service."""
        if change:
            return super().save_model(request, obj, form, change)
        created = scenario_create(
            network=obj.network,
            kind=obj.kind,
            day_start=obj.day_start,
            parameters=obj.parameters,
            now=timezone.now(),
            enqueue=True,
        )
        obj.pk, obj._state.adding = created.pk, False
        return None

    @admin.display(description="Day")
    def charts(self, obj: Scenario) -> str:
        return mark_safe(scenario_chart_svg(scenario=obj)) if obj.pk else ""  # noqa: S308 - our own SVG
