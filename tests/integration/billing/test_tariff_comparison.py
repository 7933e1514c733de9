"""Tariff comparison on the database: the same engine as invoices, to the cent; stored runs and exports."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from billing.models import Invoice, TariffComparisonRun
from billing.services.comparison import (
    Cohort,
    Scenario,
    UnableToCompareTariffs,
    comparison_csv,
    comparison_xlsx,
    tariff_comparison_compute,
    tariff_comparison_run_execute,
    tariff_comparison_run_start,
)
from tests.factories.metering import half_hours, ingest
from tests.integration.billing.test_bill_runs import make_accounts, make_tariff, start_and_execute

D = Decimal
TOU = {
    "format": "tariff/v1",
    "currency": "GBP",
    "timezone": "Europe/London",
    "standing_charge_per_day": "0.40",
    "energy": {
        "kind": "tou",
        "rates_per_kwh": {"night": "0.0913", "day": "0.2237", "peak": "0.3517"},
        "weekday": ["night"] * 14 + ["day"] * 20 + ["peak"] * 6 + ["day"] * 6 + ["night"] * 2,
        "weekend": ["night"] * 14 + ["day"] * 34,
        "holidays": "GB",
    },
    "tax": {"name": "VAT", "rate": "0.05"},
}


@pytest.fixture
def twins():
    """Two accounts with the same October readings (uneven, across the DST change), one on each tariff."""
    (flat_account,), (flat_meter,) = make_accounts(make_tariff("FLAT"), 1, prefix="FL", kwh_e4=1234)
    (tou_account,), (tou_meter,) = make_accounts(
        make_tariff("TOU", document=TOU), 1, prefix="TO", kwh_e4=1234
    )
    for moment, kwh in (
        (datetime(2024, 10, 7, 17, tzinfo=UTC), "2.3456"),
        (datetime(2024, 10, 27, 1, tzinfo=UTC), "1.1111"),
        (datetime(2024, 10, 28, 16, 30, tzinfo=UTC), "3.0005"),
    ):
        for meter in (flat_meter, tou_meter):
            ingest(meter, half_hours(moment, 1, kwh))
    return flat_account, tou_account


@pytest.mark.django_db
def test_the_comparison_of_an_account_equals_the_invoice_of_the_same_period_and_tariff(twins):
    flat_account, tou_account = twins
    start_and_execute()
    flat_invoice = Invoice.objects.get(customer=flat_account)
    tou_invoice = Invoice.objects.get(customer=tou_account)
    assert flat_invoice.total_amount != tou_invoice.total_amount

    result = tariff_comparison_compute(
        tariff_codes=["FLAT", "TOU"],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        cohort=Cohort(account_numbers=(flat_account.account_number,)),
    )

    assert result.bills == {
        flat_account.account_number: {
            "current": flat_invoice.total_amount,
            "FLAT": flat_invoice.total_amount,
            "TOU": tou_invoice.total_amount,
        }
    }
    tou = result.summaries[2]
    assert (tou.tariff_code, tou.accounts, tou.total) == ("TOU", 1, tou_invoice.total_amount)
    assert (tou.winners, tou.losers) == ((1, 0) if tou.total < flat_invoice.total_amount else (0, 1))


@pytest.mark.django_db
def test_cohorts_by_tariff_and_price_level_scenario(twins):
    _, tou_account = twins
    base = tariff_comparison_compute(
        tariff_codes=["FLAT"],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        cohort=Cohort(tariff_code="TOU"),
    )
    assert list(base.bills) == [tou_account.account_number]
    dearer = tariff_comparison_compute(
        tariff_codes=["FLAT"],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        cohort=Cohort(tariff_code="TOU"),
        scenario=Scenario(name="+10%", price_factor=D("1.10")),
    )
    before = base.bills[tou_account.account_number]["FLAT"]
    after = dearer.bills[tou_account.account_number]["FLAT"]
    assert after == pytest.approx(before * D("1.10"), abs=D("0.05"))


@pytest.mark.django_db
def test_a_stored_run_records_progress_and_exports_csv_and_xlsx(twins):
    run = tariff_comparison_run_start(
        tariff_codes=["FLAT", "TOU"],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        cohort=Cohort(),
        scenarios=[Scenario(), Scenario(name="PV 50%", pv_share=0.5)],
        now=datetime(2024, 11, 2, tzinfo=UTC),
    )
    run = tariff_comparison_run_execute(run_id=run.pk, now=datetime(2024, 11, 2, tzinfo=UTC))

    assert (run.status, run.progress_done, run.progress_total) == (TariffComparisonRun.Status.COMPLETED, 2, 2)
    assert [r["scenario"] for r in run.results] == ["base", "PV 50%"]
    pv = {s["tariff_code"]: s for s in run.results[1]["summaries"]}
    assert 0 < pv["TOU"]["self_sufficiency"] < 1
    rows = list(csv.reader(io.StringIO(comparison_csv(run.results))))
    assert rows[0][:3] == ["scenario", "tariff_code", "accounts"]
    assert len([r for r in rows[1:7] if r]) == 6  # 2 scenarios × (current + 2 tariffs)
    book = load_workbook(io.BytesIO(comparison_xlsx(run.results)))
    assert book.sheetnames == ["summary", "bills", "chart"]
    assert book["bills"].max_row == 1 + 2 * 2


@pytest.mark.django_db
def test_unknown_tariffs_are_refused_naming_the_field():
    with pytest.raises(UnableToCompareTariffs) as error:
        tariff_comparison_compute(
            tariff_codes=["NOPE"], period_start=date(2024, 10, 1), period_end=date(2024, 11, 1)
        )
    assert error.value.field == "tariff_codes"


@pytest.mark.django_db
def test_the_command_prints_the_summary_and_writes_the_exports(twins, tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "tariff_compare",
        "--tariffs=FLAT,TOU",
        "--from=2024-10-01",
        "--to=2024-11-01",
        "--price-factor=1.10",
        f"--csv={tmp_path / 'c.csv'}",
        f"--xlsx={tmp_path / 'c.xlsx'}",
        stdout=out,
        stderr=io.StringIO(),
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:2] == ["scenario", "tariff_code"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("base", "current"),
        ("base", "FLAT"),
        ("base", "TOU"),
        ("prices x1.10", "current"),
        ("prices x1.10", "FLAT"),
        ("prices x1.10", "TOU"),
    ]
    assert (tmp_path / "c.csv").read_text().count("\n") == 1 + 6 + 1 + 1 + 2 * 2
    assert load_workbook(tmp_path / "c.xlsx").sheetnames == ["summary", "bills", "chart"]
