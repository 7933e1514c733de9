"""Admin of forecasting: series with their champion and metrics, model runs, issued forecasts with a chart of
forecast against actual and its bands, backtests and anomalies."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin import ReadOnlyAdmin, error_text
from forecasting.modelling.chart import forecast_svg
from forecasting.models import Anomaly, BacktestRun, Forecast, ForecastingJob, ModelRun, Series
from forecasting.selectors.forecasts import forecast_with_actuals
from forecasting.services.jobs import anomaly_job_start, forecasting_job_progress, training_job_start

METRIC_KEYS = ("mape", "rmse", "mase", "coverage_80", "coverage_95", "fit_seconds_median")


def _metrics_table(metrics: dict) -> str:
    rows = list(metrics.get("models", []))
    naive = metrics.get("seasonal_naive")
    if not rows and not naive:
        return "—"
    body = format_html_join(
        "",
        "<tr><td>{}</td>{}</tr>",
        ((m["name"], format_html_join("", "<td>{}</td>", ((m.get(k),) for k in METRIC_KEYS))) for m in rows),
    )
    naive_row = (
        format_html(
            "<tr><td>seasonal naive</td><td>{}</td><td>{}</td></tr>", naive.get("mape"), naive.get("rmse")
        )
        if naive
        else ""
    )
    head = format_html_join("", "<th>{}</th>", ((k,) for k in ("model", *METRIC_KEYS)))
    return format_html("<table><tr>{}</tr>{}{}</table>", head, body, naive_row)


def _chart(forecast: Forecast | None) -> str:
    if forecast is None:
        return "No forecast issued yet."
    frame = forecast_with_actuals(forecast=forecast)
    title = f"{forecast.series.code}: {forecast.run.model} issued {forecast.issued_at:%Y-%m-%d %H:%M}Z"
    return mark_safe(forecast_svg(frame, title=title, unit=forecast.series.unit))  # noqa: S308 - escaped inside


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "kind",
        "resolution_minutes",
        "champion",
        "no_model_beats_naive",
        "champion_mape",
        "champion_selected_at",
        "weather_location",
        "active",
    )
    list_filter = ("kind", "champion", "no_model_beats_naive", "active")
    search_fields = ("code",)
    list_select_related = ("weather_location",)
    ordering = ("code",)
    readonly_fields = ("champion", "no_model_beats_naive", "champion_selected_at", "metrics", "latest_chart")
    exclude = ("champion_metrics",)
    actions = ["start_training", "start_anomaly_detection"]

    def _started(self, request: HttpRequest, start, **options) -> None:
        try:
            job = start(now=timezone.now(), **options)
        except ValidationError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return
        self.message_user(
            request,
            f"{job.kind.capitalize()} job {job.pk} started for {job.total} series; "
            "its progress is under Forecasting → Forecasting jobs.",
            messages.SUCCESS,
        )

    @admin.action(description="Train the selected series (refit champions, issue forecasts)")
    def start_training(self, request: HttpRequest, queryset: QuerySet[Series]) -> None:
        codes = list(queryset.order_by("code").values_list("code", flat=True))
        self._started(request, training_job_start, series_codes=codes)

    @admin.action(description="Detect anomalies in the selected series (last 30 days)")
    def start_anomaly_detection(self, request: HttpRequest, queryset: QuerySet[Series]) -> None:
        codes = list(queryset.order_by("code").values_list("code", flat=True))
        self._started(request, anomaly_job_start, series_codes=codes)

    @admin.display(description="champion MAPE %")
    def champion_mape(self, obj: Series):
        for m in obj.champion_metrics.get("models", []):
            if m["name"] == obj.champion:
                return m.get("mape")
        return (obj.champion_metrics.get("seasonal_naive") or {}).get("mape")

    @admin.display(description="backtest metrics")
    def metrics(self, obj: Series) -> str:
        return _metrics_table(obj.champion_metrics)

    @admin.display(description="latest forecast vs actual")
    def latest_chart(self, obj: Series) -> str:
        forecast = (
            Forecast.objects.select_related("run", "series").filter(series=obj).order_by("-issued_at").first()
        )
        return _chart(forecast)


@admin.register(ModelRun)
class ModelRunAdmin(ReadOnlyAdmin):
    list_display = (
        "series",
        "model",
        "purpose",
        "created_at",
        "trained_from",
        "trained_to",
        "fit_seconds",
        "mape",
    )
    list_filter = ("purpose", "model")
    search_fields = ("series__code",)
    list_select_related = ("series",)
    ordering = ("-created_at", "-id")
    exclude = ("fitted", "residuals")

    @admin.display(description="backtest MAPE %")
    def mape(self, obj: ModelRun):
        return obj.metrics.get("mape")


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    list_display = ("series", "issued_at", "period_from", "period_to", "run")
    search_fields = ("series__code",)
    list_select_related = ("series", "run")
    ordering = ("-issued_at", "-id")
    fields = ("series", "run", "issued_at", "period_from", "period_to", "step_minutes", "chart")
    readonly_fields = fields

    @admin.display(description="forecast vs actual")
    def chart(self, obj: Forecast) -> str:
        return _chart(obj)


@admin.register(BacktestRun)
class BacktestRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "series", "status", "created_at", "finished_at")
    list_filter = ("status",)
    list_select_related = ("series",)
    ordering = ("-created_at", "-id")


@admin.register(Anomaly)
class AnomalyAdmin(ReadOnlyAdmin):
    list_display = ("series", "interval_start", "value", "score", "reason", "detected_at")
    list_filter = ("series",)
    list_select_related = ("series",)
    search_fields = ("series__code", "reason")
    ordering = ("-interval_start", "-id")


@admin.register(ForecastingJob)
class ForecastingJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "progress", "failed", "created_at", "started_at", "finished_at")
    list_filter = ("kind", "status")
    ordering = ("-created_at", "-id")

    @admin.display(description="progress")
    def progress(self, obj: ForecastingJob) -> str:
        return f"{obj.done}/{obj.total} ({forecasting_job_progress(obj):.0%})"
