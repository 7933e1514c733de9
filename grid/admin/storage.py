"""Admin for storage and balancing: assets and limits (audited), runs read-only with SVG charts."""

from django.contrib import admin
from django.utils.safestring import mark_safe

from core.admin import ReadOnlyAdmin
from grid.models import BalancingRun, BatteryAsset, FeederLimit, ScenarioBalancing, ScheduleRun
from grid.optimize.svg import line_chart_svg
from grid.selectors.storage import asset_latest_day, fleet_net_load


@admin.register(FeederLimit)
class FeederLimitAdmin(admin.ModelAdmin):
    list_display = ("feeder_code", "import_limit_kw", "export_limit_kw", "updated_at")
    search_fields = ("feeder_code",)


@admin.register(BatteryAsset)
class BatteryAssetAdmin(admin.ModelAdmin):
    list_display = ("code", "meter_point", "capacity_kwh", "power_kw", "pv_peak_kw", "active")
    list_filter = ("active",)
    search_fields = ("code", "meter_point__identifier", "meter_point__feeder_code")
    raw_id_fields = ("meter_point",)
    readonly_fields = ("latest_day",)

    @admin.display(description="Latest scheduled day")
    def latest_day(self, obj: BatteryAsset) -> str:
        rows = asset_latest_day(asset=obj) if obj.pk else []
        if not rows:
            return "Not scheduled yet."
        labels = [row["interval_start"].strftime("%H:%M") for row in rows]
        power = line_chart_svg(
            [
                ("charge kW", [r["charge_kw"] for r in rows]),
                ("discharge kW", [r["discharge_kw"] for r in rows]),
                ("PV kW", [r["pv_kw"] for r in rows]),
                ("load kW", [r["load_kw"] for r in rows]),
            ],
            x_labels=labels,
            title=f"{obj.code}: power (UTC)",
        )
        soc = line_chart_svg(
            [("state of charge", [r["soc_kwh"] for r in rows])],
            x_labels=labels,
            title=f"{obj.code}: state of charge",
            unit="kWh",
            height=200,
        )
        return mark_safe(power + "<br>" + soc)  # noqa: S308 (built here from numbers and escaped labels)


@admin.register(ScheduleRun)
class ScheduleRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "period_start",
        "status",
        "progress",
        "units",
        "objective",
        "seconds",
        "dispatched_at",
    )
    list_filter = ("kind", "status")
    readonly_fields = ("fleet_net_load_chart",)

    @admin.display(description="Subproblems solved")
    def progress(self, obj: ScheduleRun) -> str:
        return f"{obj.jobs_done}/{obj.jobs_total}" if obj.jobs_total else "in process"

    @admin.display(description="Fleet net load before and after storage")
    def fleet_net_load_chart(self, obj: ScheduleRun) -> str:
        rows = fleet_net_load(run_id=obj.pk)
        if not rows:
            return "No rows (infeasible run)."
        return mark_safe(  # noqa: S308 (built here from numbers and escaped labels)
            line_chart_svg(
                [
                    ("before (load − PV)", [r["before_kw"] for r in rows]),
                    ("after (with storage)", [r["after_kw"] for r in rows]),
                ],
                x_labels=[r["interval_start"].strftime("%H:%M") for r in rows],
                title=f"Run {obj.pk}: fleet net load (UTC)",
            )
        )


@admin.register(BalancingRun)
class BalancingRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tariff_code",
        "day",
        "status",
        "peak_before_kw",
        "peak_after_kw",
        "publication_revision",
    )
    list_filter = ("status",)


@admin.register(ScenarioBalancing)
class ScenarioBalancingAdmin(ReadOnlyAdmin):
    list_display = (
        "scenario",
        "units",
        "peak_base_mw",
        "peak_with_balancing_mw",
        "peak_with_storage_mw",
        "shed_mw",
        "residual_shed_mw",
    )
    readonly_fields = ("chart",)

    @admin.display(description="Battery fleet per step")
    def chart(self, obj: ScenarioBalancing) -> str:
        return mark_safe(  # noqa: S308 (built here from numbers and escaped labels)
            line_chart_svg(
                [("battery MW (+ discharge)", list(obj.battery_mw))],
                x_labels=[str(k) for k in range(len(obj.battery_mw))],
                title=f"Scenario {obj.scenario_id}: batteries next to shedding",
                unit="MW",
                height=200,
            )
        )
