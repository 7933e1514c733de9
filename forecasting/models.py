"""Weather locations and their observations and issued forecasts; forecast series, model runs, forecasts
versioned by issue time, backtest runs and detected anomalies.

Forecast values are stored as arrays on one row per issued forecast (start, step, value and 80/95 % bounds):
1,000 series re-forecast hourly over 7 days would otherwise be 4 million rows a day.
"""

from django.db import models


class WeatherLocation(models.Model):
    """A point whose weather stands for an area (a zone, feeders, regions)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    zone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone of the area.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class WeatherArea(models.Model):
    """Maps a feeder or a region of meter points onto the weather location that stands for it."""

    class Kind(models.TextChoices):
        FEEDER = "FEEDER", "Feeder"
        REGION = "REGION", "Region"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    code = models.CharField(max_length=32)
    location = models.ForeignKey(WeatherLocation, on_delete=models.CASCADE, related_name="areas")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="weather_area_uniq")]

    def __str__(self) -> str:
        return f"{self.kind} {self.code} → {self.location_id}"


class WeatherValues(models.Model):
    """Hourly weather over [interval_start, interval_start + 1 h); NULL where the source has no value."""

    location = models.ForeignKey(WeatherLocation, on_delete=models.CASCADE)
    interval_start = models.DateTimeField()
    temperature_c = models.FloatField(null=True, blank=True)
    relative_humidity_pct = models.FloatField(null=True, blank=True)
    cloud_cover_pct = models.FloatField(null=True, blank=True)
    wind_speed_ms = models.FloatField(null=True, blank=True)
    ghi_wm2 = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32, default="")

    class Meta:
        abstract = True


class WeatherObservation(WeatherValues):
    """One observed (or reanalysed) hour."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "interval_start"], name="weather_observation_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.location_id} {self.interval_start:%Y-%m-%d %H:%M}"


class WeatherForecast(WeatherValues):
    """One hour of a weather forecast issued at `issued_at` (every issue is kept)."""

    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "issued_at", "interval_start"], name="weather_forecast_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.location_id} {self.interval_start:%Y-%m-%d %H:%M} @ {self.issued_at:%Y-%m-%d %H:%M}"


class Series(models.Model):
    """Something forecast: an aggregate (feeder, region, tariff class), the portfolio, a file, PV, a price."""

    class Kind(models.TextChoices):
        FEEDER = "FEEDER", "Feeder"
        REGION = "REGION", "Region"
        TARIFF_CLASS = "TARIFF_CLASS", "Tariff class"
        PORTFOLIO = "PORTFOLIO", "Portfolio"
        FILE = "FILE", "File"
        PV = "PV", "PV"
        PRICE = "PRICE", "Price"

    code = models.CharField(max_length=96, unique=True, help_text="e.g. feeder:F1, region:north, file:vic")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    resolution_minutes = models.PositiveSmallIntegerField(default=30)
    unit = models.CharField(max_length=16, default="kWh")
    zone = models.CharField(max_length=64, default="UTC")
    holidays = models.CharField(max_length=16, blank=True, help_text="country[-subdivision], e.g. GB-ENG")
    weather_location = models.ForeignKey(
        WeatherLocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="series"
    )
    champion = models.CharField(max_length=32, blank=True)
    no_model_beats_naive = models.BooleanField(
        default=False, help_text="No model beat seasonal naive in the last backtest: naive is used."
    )
    champion_selected_at = models.DateTimeField(null=True, blank=True)
    champion_metrics = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return self.code


class SeriesValue(models.Model):
    """A measured value of a series whose data is not metering's (imported files, prices)."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="values")
    interval_start = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "interval_start"], name="series_value_uniq")]

    def __str__(self) -> str:
        return f"{self.series_id} {self.interval_start:%Y-%m-%d %H:%M}"


class ModelRun(models.Model):
    """One training of one model on one series: what, on which data, how good; the fitted model itself."""

    class Purpose(models.TextChoices):
        SELECT = "SELECT", "Champion selection (backtest)"
        TRAIN = "TRAIN", "Training"

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="runs")
    model = models.CharField(max_length=32)
    purpose = models.CharField(max_length=6, choices=Purpose.choices, default=Purpose.TRAIN)
    params = models.JSONField(default=dict)
    trained_from = models.DateTimeField()
    trained_to = models.DateTimeField()
    data_hash = models.CharField(max_length=64)
    metrics = models.JSONField(default=dict, help_text="Backtest metrics of this model (and of naive).")
    residuals = models.JSONField(default=dict, help_text="Recent backtest errors: the conformal intervals.")
    fitted = models.BinaryField(null=True, blank=True, editable=False)
    fit_seconds = models.FloatField(default=0)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.series_id} {self.model} @ {self.created_at:%Y-%m-%d %H:%M}"


class Forecast(models.Model):
    """Values and 80/95 % bounds of a series over [period_from, period_to), as issued at `issued_at`."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="forecasts")
    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="forecasts")
    issued_at = models.DateTimeField()
    period_from = models.DateTimeField()
    period_to = models.DateTimeField()
    step_minutes = models.PositiveSmallIntegerField()
    value = models.JSONField()
    lower_80 = models.JSONField()
    upper_80 = models.JSONField()
    lower_95 = models.JSONField()
    upper_95 = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "issued_at"], name="forecast_issue_uniq")]
        indexes = [models.Index(fields=["series", "issued_at"], name="forecast_series_issued")]

    def __str__(self) -> str:
        return f"{self.series_id} issued {self.issued_at:%Y-%m-%d %H:%M}"


class BacktestRun(models.Model):
    """A backtest started through the API; a worker fills in the result."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="backtests")
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"backtest {self.pk} of {self.series_id} ({self.status})"


class Anomaly(models.Model):
    """An interval of a series that the detector found unusual, with the reason, for staff to review."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="anomalies")
    interval_start = models.DateTimeField()
    value = models.FloatField()
    score = models.FloatField()
    reason = models.CharField(max_length=200)
    detected_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "interval_start"], name="anomaly_uniq")]

    def __str__(self) -> str:
        return f"{self.series_id} {self.interval_start:%Y-%m-%d %H:%M}: {self.reason}"


class ForecastingJob(models.Model):
    """A training or anomaly-detection run over some series started by staff or the API; workers fill in
    its progress (`done` of `total` series) and the outcome per series."""

    class Kind(models.TextChoices):
        TRAINING = "TRAINING", "Training"
        ANOMALIES = "ANOMALIES", "Anomalies"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    options = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0, help_text="Series in the job.")
    done = models.PositiveIntegerField(default=0, help_text="Series finished (trained, checked or skipped).")
    failed = models.PositiveIntegerField(default=0, help_text="Series skipped with a reason.")
    result = models.JSONField(default=dict, blank=True, help_text="Outcome per series code.")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status}, {self.done}/{self.total})"
