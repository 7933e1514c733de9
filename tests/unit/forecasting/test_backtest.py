import numpy as np
import pandas as pd
import pytest

from forecasting.modelling.backtest import backtest, champion_of, local_midnights, metrics
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.models import Constant, SeasonalNaive, model_factory
from tests.unit.forecasting.synthetic import demand_series

CAL = Calendar(zone="UTC", step=pd.Timedelta(hours=1))


def _origins(first: str, days: int) -> pd.DatetimeIndex:
    start = pd.Timestamp(first)
    return local_midnights(start, start + pd.Timedelta(days=days), CAL)


def test_gradient_boosting_learns_the_known_structure_and_beats_seasonal_naive():
    y, X = demand_series(days=120)

    result = backtest(
        y,
        X,
        calendar=CAL,
        factories={"lightgbm": model_factory("lightgbm", CAL, horizon=24)},
        origins=_origins("2023-04-01", 28),
        horizon=24,
        refit_every_days=14,
    )

    model = result.models[0].metrics
    naive = result.seasonal_naive.metrics
    assert result.origins == 28
    assert model["mape"] < 3.5  # noise alone is 2 % (MAPE ≈ 1.6 %)
    assert model["mape"] < 0.65 * naive["mape"]
    assert model["mase"] < 0.7
    assert abs(model["coverage_80"] - 0.80) <= 0.06
    assert abs(model["coverage_95"] - 0.95) <= 0.04
    assert result.champion == "lightgbm"


def test_a_useless_model_is_never_champion():
    y, X = demand_series(days=60)

    result = backtest(
        y,
        X,
        calendar=CAL,
        factories={"constant": lambda: Constant(CAL)},
        origins=_origins("2023-02-15", 14),
        horizon=24,
    )

    assert result.models[0].metrics["mape"] > result.seasonal_naive.metrics["mape"]
    assert result.champion is None
    assert result.as_json()["champion"] is None


def test_seasonal_naive_is_the_same_local_time_a_week_earlier_across_dst():
    london = Calendar(zone="Europe/London", step=pd.Timedelta(hours=1))
    index = pd.date_range("2023-03-15", "2023-04-05", freq="h", tz="UTC", inclusive="left")
    local_hour = index.tz_convert("Europe/London").hour
    y = pd.Series(local_hour.to_numpy(dtype=float), index=index)
    origin = pd.Timestamp("2023-03-29T23:00Z")  # local midnight after the spring change (26 March)
    targets = pd.date_range(origin, periods=24, freq="h")

    predicted = SeasonalNaive(london).predict(y[y.index < origin], None, targets)

    assert list(predicted) == list(range(24))


def test_metrics_match_hand_computed_values():
    actual = np.array([100.0, 200.0])
    frame = pd.DataFrame(
        {
            "value": [110.0, 180.0],
            "lower_80": [90.0, 190.0],
            "upper_80": [120.0, 210.0],
            "lower_95": [80.0, 150.0],
            "upper_95": [130.0, 250.0],
        }
    )

    out = metrics(actual, frame, naive=np.array([120.0, 160.0]))

    assert out["mape"] == pytest.approx(10.0)
    assert out["rmse"] == pytest.approx(np.sqrt((100 + 400) / 2))
    assert out["mase"] == pytest.approx(15 / 30)
    assert out["coverage_80"] == 1.0
    assert out["pinball_80"] == pytest.approx(
        ((0.1 * 10 + 0.1 * 10) / 2 + (0.9 * 0 + 0.1 * 20 + 0.1 * 10) / 2) / 2
    )


def test_champion_is_the_lowest_mape_that_beats_naive():
    from forecasting.modelling.backtest import ModelResult
    from forecasting.modelling.intervals import ResidualPool

    def result(name, mape):
        return ModelResult(name, {"mape": mape}, [], ResidualPool(), pd.DataFrame())

    naive = result("seasonal_naive", 5.0)
    assert champion_of([result("a", 4.0), result("b", 3.0)], naive) == "b"
    assert champion_of([result("a", 5.0), result("b", 6.0)], naive) is None


@pytest.mark.slow
def test_prophet_with_temperature_regressors_beats_seasonal_naive():
    y, X = demand_series(days=70)

    result = backtest(
        y,
        X,
        calendar=CAL,
        factories={"prophet": model_factory("prophet", CAL, horizon=24)},
        origins=_origins("2023-03-05", 7),
        horizon=24,
        refit_every_days=7,
        calibration_days=7,
    )

    assert result.champion == "prophet"
    assert result.models[0].metrics["mape"] < 5.0


def test_a_short_history_gets_the_compact_gradient_boosting_model_with_the_same_forecasts_shape():
    from forecasting.modelling.models import COMPACT_PARAMS, LIGHTGBM_PARAMS, GradientBoosting

    y, X = demand_series(days=40, start="2023-01-02")
    calendar = Calendar(step=pd.Timedelta(hours=1))
    history = y.iloc[:-168]
    targets = y.index[-168:]
    compact = GradientBoosting(calendar, horizon=168)
    full = GradientBoosting(calendar, horizon=168, compact=False)

    compact.fit(history, X)
    full.fit(history, X)

    assert compact.model.n_estimators == COMPACT_PARAMS["n_estimators"]
    assert compact.model.num_leaves == COMPACT_PARAMS["num_leaves"]
    assert full.model.n_estimators == LIGHTGBM_PARAMS["n_estimators"]
    for model in (compact, full):
        predicted = model.predict(history, X, targets)
        mape = np.mean(np.abs(predicted - y.loc[targets].to_numpy()) / y.loc[targets].to_numpy()) * 100
        assert mape < 6.0


def test_gradient_boosting_training_rows_stand_for_local_midnight_origins_across_dst():
    from forecasting.modelling.models import GradientBoosting, lead_days

    melbourne = Calendar(zone="Australia/Melbourne", step=pd.Timedelta(minutes=30))
    # Daylight saving ended at 03:00 local on Sunday 6 April 2014 (a 25-hour day).
    targets = pd.date_range("2014-04-04T13:00Z", "2014-04-08T13:00Z", freq="30min", inclusive="left")
    model = GradientBoosting(melbourne, horizon=96)

    for k in (1, 2, 3):
        origins = model._training_origins(targets, np.full(len(targets), k))
        local = origins.tz_convert("Australia/Melbourne")
        assert (local.hour == 0).all()
        assert (local.minute == 0).all()
        for origin in origins.unique():
            rows = origins == origin
            assert (lead_days(targets[rows], origin, melbourne) == k).all()
            assert (targets[rows] >= origin).all()


def test_gradient_boosting_reads_the_last_values_before_the_origin_only():
    from forecasting.modelling.models import GradientBoosting

    y, X = demand_series(days=40)
    origin = pd.Timestamp("2023-02-05T00:00Z")
    history = y[y.index < origin]
    model = GradientBoosting(CAL, horizon=24)
    model.fit(history, X)
    targets = pd.date_range(origin, periods=24, freq="h")
    k = np.ones(24, dtype=int)

    rows = model._rows(history, X, targets, k, pd.DatetimeIndex(np.repeat(origin, 24)))

    level = rows["level"].to_numpy()
    assert rows["ahead_h"].tolist() == list(range(24))
    assert rows["last"].to_numpy() == pytest.approx(history.iloc[-1] / level)
    assert rows["last_day"].to_numpy() == pytest.approx(history.iloc[-24:].mean() / level)


def _coverage_after_a_change_of_regime(gamma: float) -> tuple[float, dict]:
    """Daily forecasts of 24 hourly points with errors N(0, 1 %) for 40 days, then N(0, 2 %) for 20 days:
    the 80 % coverage over the 20 days after the change, with bands from `ResidualPool(gamma=…)`."""
    from forecasting.modelling.intervals import ResidualPool

    rng = np.random.default_rng(3)
    pool = ResidualPool(gamma=gamma)
    hits = []
    for day in range(60):
        origin = pd.Timestamp("2023-01-01T00:00Z") + pd.Timedelta(days=day)
        targets = pd.date_range(origin, periods=24, freq="h")
        predicted = np.full(24, 100.0)
        actual = predicted * (1 + rng.normal(0, 0.01 if day < 40 else 0.02, 24))
        leads = np.ones(24, dtype=int)
        bounds = pool.bounds(predicted, leads, origin)
        if day >= 40:
            hits += list((actual >= bounds["lower_80"]) & (actual <= bounds["upper_80"]))
        pool.add(targets, leads, predicted, actual, bounds=bounds)
    return float(np.mean(hits)), pool.as_json(last_days=28)


def test_adaptive_intervals_recover_their_coverage_faster_after_a_change_of_regime():
    from forecasting.modelling.intervals import ResidualPool

    fixed, _ = _coverage_after_a_change_of_regime(0.0)
    adapted, stored = _coverage_after_a_change_of_regime(0.1)

    assert fixed < 0.65  # the 28-day window still holds mostly the calm errors
    assert adapted > fixed + 0.08
    assert abs(adapted - 0.80) < abs(fixed - 0.80)
    # A stored pool keeps the adapted rate: widened bands (a miss rate below the nominal 20 %).
    assert stored["miss_rate"]["80"] < 0.2
    restored = ResidualPool.from_json(stored)
    assert restored.miss_rate("80", pd.Timestamp("2023-03-02T00:00Z")) == stored["miss_rate"]["80"]
