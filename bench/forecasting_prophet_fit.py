"""Prophet fit seconds per series with a year of hourly history (target ≤ 1.5 s), LightGBM alongside.

The series is Victoria's 2013 demand and Melbourne temperature summed to hours (internal data in
../shared/data; without it, a synthetic year with the same structure). Prophet as the app configures it:
local holidays, weekday/weekend daily shapes, heating/cooling degrees as regressors, no uncertainty sampling.

    .venv/bin/python bench/forecasting_prophet_fit.py [repeats]
"""

import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting.modelling.calendar import Calendar
from forecasting.modelling.models import GradientBoosting, ProphetModel

VIC = ROOT.parent.parent / "shared" / "data" / "demand_weather" / "vic_elec_2012_2014_halfhourly.csv"
VIC = VIC if VIC.exists() else Path("/work/shared/data/demand_weather/vic_elec_2012_2014_halfhourly.csv")


def year_hourly() -> tuple[pd.Series, pd.DataFrame, Calendar, str]:
    if VIC.exists():
        raw = pd.read_csv(VIC)
        raw.index = pd.to_datetime(raw["timestamp_utc"], utc=True)
        hourly = (
            raw[["demand_mw", "temperature_c"]]
            .resample("h")
            .agg({"demand_mw": "sum", "temperature_c": "mean"})
        )
        hourly = hourly[(hourly.index >= "2012-12-31T13:00Z") & (hourly.index < "2013-12-31T13:00Z")]
        calendar = Calendar(zone="Australia/Melbourne", holidays="AU-VIC", step=pd.Timedelta(hours=1))
        return hourly["demand_mw"], hourly[["temperature_c"]], calendar, "vic_elec 2013 (hourly)"
    sys.path.insert(0, str(ROOT / "tests" / "unit" / "forecasting"))
    from synthetic import demand_series

    y, X = demand_series(days=365)
    return y, X, Calendar(zone="UTC", step=pd.Timedelta(hours=1)), "synthetic year (hourly)"


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    y, X, calendar, label = year_hourly()
    print(f"{label}: {len(y):,} hours; {repeats} fits each (shared 2-core machine: other jobs may run)")
    for name, make in (
        ("prophet", lambda: ProphetModel(calendar)),
        ("lightgbm", lambda: GradientBoosting(calendar, horizon=168)),
    ):
        seconds = []
        for _ in range(repeats):
            model = make()
            started = time.perf_counter()
            model.fit(y, X)
            seconds.append(time.perf_counter() - started)
        print(
            f"{name:<9} fit median {statistics.median(seconds):.2f} s  min {min(seconds):.2f} s  "
            f"max {max(seconds):.2f} s"
        )


if __name__ == "__main__":
    main()
