"""Admin of tariff comparison runs: progress, the fairness table per scenario and tariff, CSV/XLSX exports.
Runs are started by the service (GraphQL `tariffComparisonRunStart`, the demo); staff look, never change."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billing.models import TariffComparisonRun
from core.admin import ReadOnlyAdmin

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


def sensitivity_chart_svg(results: list[dict]):
    """Mean bill per tariff (groups) and scenario (bars), as a server-rendered SVG with no script."""
    from xml.sax.saxutils import escape

    from django.utils.safestring import mark_safe

    rows = [
        (r["scenario"], s["tariff_code"], s["mean"]) for r in results for s in r["summaries"] if s["mean"]
    ]
    if not rows:
        return "–"
    tariffs = list(dict.fromkeys(t for _, t, _ in rows))
    scenarios = list(dict.fromkeys(n for n, _, _ in rows))
    top = max(float(m) for _, _, m in rows) or 1.0
    width, height, left, bottom = 640, 240, 40, 40
    group = (width - left) / len(tariffs)
    bar = group * 0.8 / len(scenarios)
    colours = ("#2f80c2", "#f2994a", "#27ae60", "#9b51e0", "#eb5757")
    shapes = []
    for scenario, tariff, mean in rows:
        h = (height - bottom - 10) * float(mean) / top
        x = left + tariffs.index(tariff) * group + group * 0.1 + scenarios.index(scenario) * bar
        shapes.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}"'
            f' fill="{colours[scenarios.index(scenario) % len(colours)]}"><title>{escape(scenario)}, '
            f"{escape(tariff)}: {escape(str(mean))}</title></rect>"
        )
    for i, tariff in enumerate(tariffs):
        shapes.append(
            f'<text x="{left + i * group + group / 2:.1f}" y="{height - bottom + 14}" font-size="10"'
            f' text-anchor="middle">{escape(tariff)}</text>'
        )
    for i, scenario in enumerate(scenarios):
        shapes.append(
            f'<text x="{left + i * 120}" y="{height - 6}" font-size="10"'
            f' fill="{colours[i % len(colours)]}">■ {escape(scenario)}</text>'
        )
    return mark_safe(  # noqa: S308 - every interpolated value is escaped or numeric
        f'<svg id="sensitivity-chart" role="img" aria-label="Mean bill per tariff and scenario"'
        f' viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(shapes)}</svg>"
    )


@admin.register(TariffComparisonRun)
class TariffComparisonRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "period_start", "period_end", "tariffs", "status", "progress", "created_at")
    list_filter = ("status",)
    ordering = ("-created_at", "-pk")
    readonly_fields = ("fairness_table", "sensitivity_chart", "exports")
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
        "sensitivity_chart",
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

    @admin.display(description="Mean bill per tariff and scenario")
    def sensitivity_chart(self, run: TariffComparisonRun):
        return sensitivity_chart_svg(run.results or [])

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
