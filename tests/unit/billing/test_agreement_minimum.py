"""An agreement's own minimum charge per month: a MINIMUM_CHARGE line tops the agreement's lines up to the
prorated minimum (hand-computed), taxed like the import version, and nothing when the bill is above it."""

from datetime import UTC, date, datetime
from decimal import Decimal

from billing import engine
from tests.unit.billing.test_engine import FAR_PAST, flat, meter, summary, version

D = Decimal
JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)  # GMT: local = UTC


def bill(minimum, *, kwh_e4=1000, days=31, agreement_from=FAR_PAST, period_end=date(2024, 2, 1)):
    doc = flat("0.2000", standing_charge_per_day="0.5000", tax={"name": "VAT", "rate": "0.05"})
    return engine.bill_compute(
        agreements=[
            engine.AgreementInput(
                valid_from=agreement_from,
                valid_to=None,
                import_versions=[version(doc, pk=7)],
                meters=[meter(JAN_1, [kwh_e4] * 48 * days)],
                minimum_charge_per_month=minimum,
            )
        ],
        period_start=date(2024, 1, 1),
        period_end=period_end,
    )


def test_a_bill_below_the_minimum_gets_a_top_up_line_for_the_difference():
    # 31 days × 48 × 0.1 kWh = 148.8 kWh × 0.20 = 29.76; standing 31 × 0.50 = 15.50; lines 45.26 < 60.00
    result = bill(D("60.00"))

    assert summary(result) == [
        ("ENERGY", "flat", D("148.8000"), D("29.76")),
        ("STANDING_CHARGE", "", D("31.0000"), D("15.50")),
        ("MINIMUM_CHARGE", "agreement minimum", D("31.0000"), D("14.74")),
    ]
    minimum_line = result.lines[-1]
    assert (minimum_line.unit, minimum_line.unit_price, minimum_line.version_id) == ("day", None, 7)
    assert minimum_line.description == "Agreement minimum charge top-up (minimum 60.00 for 31 days)"
    # taxed like the version's lines: VAT 5 % of 60.00
    assert (result.net, result.tax, result.total) == (D("60.00"), D("3.00"), D("63.00"))


def test_the_minimum_is_prorated_by_the_agreements_days_in_the_period():
    # the agreement starts on 17 Jan: 15 of 31 days; minimum 60 × 15/31 = 29.032… → 29.03
    # lines: 15 × 4.8 kWh × 0.20 = 14.40 energy + 7.50 standing = 21.90 → top-up 7.13
    result = bill(D("60.00"), agreement_from=datetime(2024, 1, 17, tzinfo=UTC))

    assert summary(result)[-1] == ("MINIMUM_CHARGE", "agreement minimum", D("15.0000"), D("7.13"))
    assert result.net == D("29.03")


def test_a_bill_at_or_above_the_minimum_has_no_minimum_line():
    assert [line.kind for line in bill(D("45.26")).lines] == ["ENERGY", "STANDING_CHARGE"]
    assert [line.kind for line in bill(None).lines] == ["ENERGY", "STANDING_CHARGE"]
