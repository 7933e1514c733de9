"""Admin of tariff comparison runs: progress, the fairness table per scenario and tariff, CSV/XLSX exports.
Runs are started by the service (GraphQL `tariffComparisonRunStart`, the demo); staff look, never change."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billing.models import TariffComparisonRun
from config.api.admin import ReadOnlyAdmin

FAIRNESS_COLUMNS = (
    ("tariff_code", "Tariff"),
    ("accounts", "Accounts"),
    ("held", "Held"),
    ("total", "Total"),
    ("mean", "Mean bill"),
    ("median", "Median bill"),
    ("winners", "Winners"),
    ("losers", "Losers"),
    ("mean_saving", "Mean saving"),
    ("bills_cv", "CV of bills"),
    ("bills_gini", "Gini of bills"),
    ("savings_cv", "CV of savings"),
    ("savings_gini", "Gini of savings"),
    ("self_sufficiency", "Self-sufficiency"),
    ("self_consumption", "Self-consumption"),
)


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def fairness_table_html(results: list[dict]):
    """One table per scenario: a row per tariff ("current" first) with the comparison's summary."""
    tables = []
    for result in results:
        head = format_html_join("", "<th>{}</th>", ((label,) for _, label in FAIRNESS_COLUMNS))
        rows = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((_cell(s[key]),) for key, _ in FAIRNESS_COLUMNS)),)
                for s in result["summaries"]
            ),
        )
        tables.append(
            format_html(
                '<h3>Scenario: {}</h3><table class="fairness"><thead><tr>{}</tr></thead>'
                "<tbody>{}</tbody></table>",
                result["scenario"],
                head,
                rows,
            )
        )
    return format_html_join("", "{}", ((t,) for t in tables)) if tables else "–"


@admin.register(TariffComparisonRun)
class TariffComparisonRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "period_start", "period_end", "tariffs", "status", "progress", "created_at")
    list_filter = ("status",)
    ordering = ("-created_at", "-pk")
    readonly_fields = ("fairness_table", "exports")
    fields = (
        "tariff_codes",
        "period_start",
        "period_end",
        "cohort",
        "scenarios",
        "status",
        "progress_done",
        "progress_total",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "exports",
        "fairness_table",
    )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_staff

    @admin.display(description="Tariffs")
    def tariffs(self, run: TariffComparisonRun) -> str:
        return ", ".join(run.tariff_codes)

    @admin.display(description="Progress")
    def progress(self, run: TariffComparisonRun) -> str:
        return f"{run.progress_done} / {run.progress_total}"

    @admin.display(description="Fairness")
    def fairness_table(self, run: TariffComparisonRun):
        return fairness_table_html(run.results or [])

    @admin.display(description="Exports")
    def exports(self, run: TariffComparisonRun):
        if not run.results:
            return "–"
        return format_html(
            '<a href="{}">CSV</a> · <a href="{}">XLSX</a>',
            reverse("admin:billing_tariffcomparisonrun_export", args=[run.pk, "csv"]),
            reverse("admin:billing_tariffcomparisonrun_export", args=[run.pk, "xlsx"]),
        )

    def get_urls(self):
        return [
            path(
                "<int:run_id>/export.<str:kind>",
                self.admin_site.admin_view(self.export_view),
                name="billing_tariffcomparisonrun_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
        from billing.services.comparison import comparison_csv, comparison_xlsx

        run = get_object_or_404(TariffComparisonRun, pk=run_id)
        if kind == "csv":
            response = HttpResponse(comparison_csv(run.results), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(
                comparison_xlsx(run.results),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        response["Content-Disposition"] = f'attachment; filename="tariff-comparison-{run.pk}.{kind}"'
        return response
