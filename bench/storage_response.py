"""Consumer response to the London trial's dToU bands: what the trial measured next to what the model predicts.

Fits the response model (difference-in-differences per band and hour, grid/optimize/response.py) on January-
June 2013 and predicts July-December: the ToU group's load in High and Low intervals against its own Normal
level, measured vs predicted; plus the whole year's raw ToU/Std ratio per band (the trial's known figure: about
15 % less in High periods). `--save` rewrites the committed whole-year model (grid/optimize/lcl_response_2013.json).
Needs ../shared/data (the 300 households' full year).

    .venv/bin/python bench/storage_response.py [--save]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grid.optimize.response import (
    TRIAL_MODEL_PATH,
    lcl_read,
    predicted_band_change,
    response_estimate,
)

SHARED = Path("/work/shared/data/households")


def main() -> None:
    consumption, groups, bands = lcl_read(
        SHARED / "lcl_2013_halfhourly_kwh_300_households_wide.csv",
        SHARED / "lcl_household_info_all_5566.csv",
        SHARED / "lcl_dtou_tariff_schedule_2013.csv",
    )
    year = response_estimate(consumption, groups, bands)
    print(f"households {year.households}, intervals per band {year.intervals}")
    for band in ("Low", "Normal", "High"):
        print(
            f"  {band:<6} ToU/Std {100 * (year.raw_ratio[band] - 1):+5.1f} % (raw, whole year); "
            f"response vs own Normal level {100 * (year.band_factor[band] - 1):+5.1f} % (DiD)"
        )
    high = year.factors["High"]
    print("  High-band factor by hour (UTC):", " ".join(f"{h:02d}:{f:.2f}" for h, f in enumerate(high)))
    train = consumption[consumption.index.month <= 6]
    test = consumption[consumption.index.month > 6]
    model = response_estimate(train, groups, bands)
    report = predicted_band_change(model, test, groups, bands)
    print("fitted on Jan-Jun, tested on Jul-Dec:")
    for band, row in report.items():
        print(
            f"  {band:<4} measured {row['measured_vs_own_normal_pct']:+5.1f} %, predicted "
            f"{row['predicted_vs_own_normal_pct']:+5.1f} % vs the ToU group's Normal level "
            f"({row['intervals']} intervals; raw ToU vs Std {row['measured_vs_control_pct']:+5.1f} %)"
        )
    if "--save" in sys.argv:
        year.save(TRIAL_MODEL_PATH)
        print(f"saved {TRIAL_MODEL_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
