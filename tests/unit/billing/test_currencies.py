"""Amounts in each currency's minor unit, ISO 4217 (issue 10 item 5; RELIABILITY.md checks 27 and 28)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.numbers import get_currency_precision

from billing import engine
from billing.currencies import minor_unit, money_round
from pricing.documents import parse_tariff_document
from tests.unit.billing.test_engine import FAR_PAST, meter

D = Decimal
TOKYO_OCT_1 = datetime(2024, 9, 30, 15, 0, tzinfo=UTC)  # 2024-10-01 00:00 JST
KUWAIT_OCT_1 = datetime(2024, 9, 30, 21, 0, tzinfo=UTC)  # 2024-10-01 00:00 AST


def day_bill(currency, zone, start, rate, **extra):
    document = parse_tariff_document(
        {
            "format": "tariff/v1",
            "currency": currency,
            "timezone": zone,
            "energy": {"kind": "flat", "rate_per_kwh": rate},
            **extra,
        }
    )
    version = engine.PricedVersion(version_id=1, valid_from=FAR_PAST, valid_to=None, document=document)
    return engine.bill_compute(
        agreements=[
            engine.AgreementInput(
                valid_from=FAR_PAST,
                valid_to=None,
                import_versions=[version],
                meters=[meter(start, [10000] * 48)],
            )
        ],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 10, 2),
    )


@pytest.mark.parametrize(
    ("currency", "places"), [("JPY", 0), ("KRW", 0), ("GBP", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3)]
)
def test_the_minor_unit_table_agrees_with_iso_4217_and_cldr(currency, places):
    """Check 28: the table of minor units (ISO 4217) agrees with babel's CLDR digits for these."""
    assert minor_unit(currency) == places == get_currency_precision(currency)


def test_rounding_is_half_up_at_the_minor_unit():
    """Check 27: exact halves round away from zero at the currency's unit."""
    assert [
        money_round(D("884.5"), "JPY"),
        money_round(D("0.0125"), "GBP"),
        money_round(D("0.0005"), "KWD"),
    ] == [
        D("885"),
        D("0.01"),
        D("0.001"),
    ]


def test_a_jpy_bill_has_whole_yen():
    """Check 28: 48 kWh × 18.4233 ¥ = 884.3184 ¥ is billed 884 ¥, tax 10 % 88 ¥ — not 884.32."""
    bill = day_bill("JPY", "Asia/Tokyo", TOKYO_OCT_1, "18.4233", tax={"name": "消費税", "rate": "0.10"})

    assert [line.amount for line in bill.lines] == [D("884")]
    assert (bill.net, bill.tax, bill.total) == (D("884"), D("88"), D("972"))
    assert {
        amount.as_tuple().exponent for amount in (bill.net, bill.tax, bill.total, bill.taxes[0].base)
    } == {0}


def test_a_kwd_bill_keeps_fils():
    """Check 28: a 0.003 KWD standing charge is 0.003, not 0.00; 48 kWh × 0.0125 = 0.600 KWD."""
    bill = day_bill("KWD", "Asia/Kuwait", KUWAIT_OCT_1, "0.0125", standing_charge_per_day="0.003")

    assert [(line.kind, line.amount) for line in bill.lines] == [
        (engine.ENERGY, D("0.600")),
        (engine.STANDING_CHARGE, D("0.003")),
    ]
    assert (bill.net, bill.total) == (D("0.603"), D("0.603"))
    assert bill.total.as_tuple().exponent == -3
