"""The tariff comparison and bill runs read the same readings (the packed reading days on PostgreSQL) before
and after a correction, to the cent; the consumer-response scenario uses the hook config injects (the
balancing model by default) and moves the bills the way the model says."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.test import override_settings

from billing.models import Invoice, TariffComparisonRun
from billing.services.comparison import (
    Cohort,
    Scenario,
    UnableToCompareTariffs,
    tariff_comparison_compute,
    tariff_comparison_compute_scenarios,
    tariff_comparison_run_execute,
    tariff_comparison_run_start,
)
from billing.services.invoices import invoice_issue
from metering.models import Quality
from tests.factories.metering import NOW, half_hours, ingest
from tests.integration.billing.test_bill_runs import OCT_FROM, make_accounts, make_tariff, start_and_execute
from tests.integration.billing.test_tariff_comparison import TOU

D = Decimal
OCTOBER = {"period_start": date(2024, 10, 1), "period_end": date(2024, 11, 1)}
# The 2013 trial's dynamic ToU bands as a tariff: Low 00:00–07:00, High 16:00–19:00, Normal otherwise
# (local time; January is GMT, so local = UTC); no standing charge or tax, so lines are energy only.
DTOU = {
    "format": "tariff/v1",
    "currency": "GBP",
    "timezone": "Europe/London",
    "standing_charge_per_day": "0",
    "energy": {
        "kind": "tou",
        "rates_per_kwh": {"low": "0.0399", "normal": "0.1176", "high": "0.6720"},
        "weekday": ["low"] * 14 + ["normal"] * 18 + ["high"] * 6 + ["normal"] * 10,
        "weekend": ["low"] * 14 + ["normal"] * 18 + ["high"] * 6 + ["normal"] * 10,
    },
    "tax": {"name": "VAT", "rate": "0"},
}
JANUARY_DAY = {"period_start": date(2024, 1, 10), "period_end": date(2024, 1, 11)}


def halve_high_rate_hook():
    """A test hook (named by BILLING_CONSUMER_RESPONSE): halve the energy priced above 0.5/kWh."""

    def respond(starts: np.ndarray, kwh_e4: np.ndarray, rate_micros: np.ndarray) -> np.ndarray:
        return np.where(rate_micros > 500_000, kwh_e4 // 2, kwh_e4)

    return respond


@pytest.mark.django_db
def test_a_correction_changes_the_comparison_and_the_invoice_identically_to_the_cent():
    make_tariff("TOU", document=TOU)
    (account,), (meter,) = make_accounts(make_tariff(), 1)
    start_and_execute()
    draft = Invoice.objects.get()
    before = tariff_comparison_compute(
        tariff_codes=["FLAT", "TOU"], cohort=Cohort(account_numbers=(account.account_number,)), **OCTOBER
    ).bills[account.account_number]
    assert before["current"] == before["FLAT"] == draft.total_amount == D("55.39")

    # 2024-10-01 00:00 UTC (01:00 BST, night): 0.1 → 1.1 kWh, then an estimate that must not replace it
    ingest(meter, half_hours(OCT_FROM, 1, "1.1000"), now=NOW + timedelta(days=2))
    ingest(meter, half_hours(OCT_FROM, 1, "0.5000"), now=NOW + timedelta(days=2), quality=Quality.ESTIMATED)
    after = tariff_comparison_compute(
        tariff_codes=["FLAT", "TOU"], cohort=Cohort(account_numbers=(account.account_number,)), **OCTOBER
    ).bills[account.account_number]
    issued = invoice_issue(number=f"DRAFT-{draft.pk}", now=NOW + timedelta(days=3))

    # flat: +1 kWh × 0.25 = +0.25 net, VAT 5% → 55.65; ToU: +1 kWh at night × 0.0913 → +0.09 on the
    # night line, VAT unchanged after rounding
    assert after["current"] == after["FLAT"] == issued.total_amount == D("55.65")
    assert (before["TOU"], after["TOU"]) == (D("43.17"), D("43.26"))


def _one_day_account():
    (account,), _ = make_accounts(
        make_tariff("FLAT"), 1, start=datetime(2024, 1, 10, tzinfo=UTC), intervals=48, kwh_e4=10_000
    )
    make_tariff("DTOU", document=DTOU)
    return account


@pytest.mark.django_db
@override_settings(
    BILLING_CONSUMER_RESPONSE=f"{__name__}.halve_high_rate_hook",
)
def test_the_consumer_response_scenario_uses_the_hook_config_names():
    account = _one_day_account()

    base, responded = tariff_comparison_compute_scenarios(
        tariff_codes=["FLAT", "DTOU"],
        cohort=Cohort(),
        scenarios=[Scenario(), Scenario(name="response", consumer_response=True)],
        **JANUARY_DAY,
    )

    # 1 kWh a half-hour: low 14 × 0.0399 = 0.5586 → 0.56, normal 28 × 0.1176 = 3.2928 → 3.29,
    # high 6 × 0.6720 = 4.032 → 4.03; with the hook the high half-hours use 0.5 kWh: 2.016 → 2.02
    assert base.bills[account.account_number]["DTOU"] == D("7.88")
    assert responded.bills[account.account_number]["DTOU"] == D("5.87")
    # flat (0.25/kWh, standing charge 0.50, VAT 5%) is never above 0.5/kWh: unchanged
    assert responded.bills[account.account_number]["FLAT"] == base.bills[account.account_number]["FLAT"]
    assert responded.scenario == "response"


@pytest.mark.django_db
def test_the_balancing_models_response_lowers_the_dynamic_tou_bill_and_keeps_the_flat_one():
    """The default wiring: config names grid's `consumer_response_hook` (the 2013 trial's response)."""
    account = _one_day_account()

    base, responded = tariff_comparison_compute_scenarios(
        tariff_codes=["FLAT", "DTOU"],
        cohort=Cohort(),
        scenarios=[Scenario(), Scenario(name="response", consumer_response=True)],
        **JANUARY_DAY,
    )

    # The trial's factors per local hour: High at 16–18 h 0.929, 0.948, 0.914 → 2 × (0.929 + 0.948 + 0.914)
    # = 5.582 kWh × 0.6720 = 3.7511 → 3.75 (was 4.03); Low at 0–6 h 1.055, 1.018, 0.962, 0.952, 0.984,
    # 0.999, 1.007 → 13.954 kWh × 0.0399 = 0.5568 → 0.56; Normal (factor 1) 3.29; flat's 0.25 is Normal.
    assert base.bills[account.account_number]["DTOU"] == D("7.88")
    assert responded.bills[account.account_number]["DTOU"] == D("7.60")
    assert responded.bills[account.account_number]["FLAT"] == base.bills[account.account_number]["FLAT"]


@pytest.mark.django_db
@override_settings(BILLING_CONSUMER_RESPONSE=f"{__name__}.halve_high_rate_hook")
def test_a_stored_run_keeps_the_consumer_response_scenario():
    account = _one_day_account()
    at = datetime(2024, 2, 1, tzinfo=UTC)
    run = tariff_comparison_run_start(
        tariff_codes=["DTOU"],
        cohort=Cohort(),
        scenarios=[Scenario(name="response", consumer_response=True)],
        now=at,
        **JANUARY_DAY,
    )

    run = tariff_comparison_run_execute(run_id=run.pk, now=at)

    assert run.status == TariffComparisonRun.Status.COMPLETED
    assert run.scenarios[0]["consumer_response"] is True
    assert run.results[0]["bills"][account.account_number]["DTOU"] == "5.87"


@pytest.mark.django_db
@override_settings(BILLING_CONSUMER_RESPONSE="")
def test_a_consumer_response_scenario_without_a_configured_model_is_refused():
    _one_day_account()

    with pytest.raises(UnableToCompareTariffs) as refused:
        tariff_comparison_compute(
            tariff_codes=["DTOU"], scenario=Scenario(consumer_response=True), **JANUARY_DAY
        )

    assert refused.value.field == "consumer_response"
