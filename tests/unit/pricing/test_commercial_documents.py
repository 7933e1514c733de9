"""`tariff/v1` commercial additions: parsed as written, refused with the offending path."""

from decimal import Decimal

import pytest

from pricing.documents import CoincidentPeak, InvalidTariffDocument, Ratchet, parse_tariff_document


def doc(**extra):
    return {
        "format": "tariff/v1",
        "currency": "USD",
        "timezone": "America/New_York",
        "energy": {"kind": "flat", "rate_per_kwh": "0.12"},
        **extra,
    }


def test_every_commercial_charge_parses():
    parsed = parse_tariff_document(
        doc(
            demand={
                "rate_per_kw": "8.50",
                "averaging_minutes": 15,
                "tou": {
                    "rates_per_kw": {"on": "12.00", "off": "0"},
                    "weekday": ["off"] * 24,
                    "weekend": ["off"] * 48,
                },
                "ratchet": {"percent": "80", "months": 11},
                "coincident_peak": {"rate_per_kw": "5.00", "basis": "system", "intervals": 4},
            },
            minimum_charge_per_month="50.00",
            riders=[
                {"name": "Fuel", "kind": "percentage", "rate": "0.031", "tax": "exempt"},
                {
                    "name": "Levy",
                    "kind": "fixed",
                    "amount_per_month": "-2.00",
                    "tax": {"name": "L", "rate": "0.1"},
                },
            ],
        )
    )
    assert parsed.demand_averaging_minutes == 15
    assert parsed.demand_ratchet == Ratchet(percent=Decimal("80"), months=11)
    assert parsed.coincident_peak == CoincidentPeak(rate_per_kw=Decimal("5.00"), basis="system", intervals=4)
    assert parsed.demand_tou.rates_per_kw["on"] == Decimal("12.00")
    assert parsed.minimum_charge_per_month == Decimal("50.00")
    assert [r.kind for r in parsed.riders] == ["percentage", "fixed"]
    assert parsed.riders[1].tax.rate == Decimal("0.1")


def test_demand_without_a_facility_rate_is_allowed_with_tou_or_coincident_peak():
    parsed = parse_tariff_document(doc(demand={"coincident_peak": {"rate_per_kw": "5.00"}}))
    assert parsed.demand_rate_per_kw is None
    assert parsed.coincident_peak.basis == "feeder"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"demand": {"averaging_minutes": 15}}, "demand.rate_per_kw"),
        ({"demand": {"rate_per_kw": "1", "averaging_minutes": 20}}, "demand.averaging_minutes"),
        ({"demand": {"rate_per_kw": "1", "averaging_minutes": "15"}}, "demand.averaging_minutes"),
        (
            {"demand": {"rate_per_kw": "1", "ratchet": {"percent": "120", "months": 11}}},
            "demand.ratchet.percent",
        ),
        (
            {"demand": {"rate_per_kw": "1", "ratchet": {"percent": "80", "months": 0}}},
            "demand.ratchet.months",
        ),
        (
            {
                "demand": {
                    "tou": {"rates_per_kw": {"on": "1"}, "weekday": ["on"] * 24, "weekend": ["on"] * 24},
                    "ratchet": {"percent": "80", "months": 3},
                }
            },
            "demand.ratchet",
        ),
        (
            {"demand": {"coincident_peak": {"rate_per_kw": "1", "basis": "region"}}},
            "demand.coincident_peak.basis",
        ),
        (
            {
                "demand": {
                    "tou": {"rates_per_kw": {"on": "1"}, "weekday": ["off"] * 24, "weekend": ["on"] * 24}
                }
            },
            "demand.tou.weekday[0]",
        ),
        ({"minimum_charge_per_month": "10.001"}, "minimum_charge_per_month"),
        ({"riders": [{"name": "X", "kind": "fixed", "rate": "0.1"}]}, "riders[0].amount_per_month"),
        ({"riders": [{"name": "X", "kind": "percentage", "rate": "2"}]}, "riders[0].rate"),
        (
            {"riders": [{"name": "X", "kind": "fixed", "amount_per_month": "1", "tax": "none"}]},
            "riders[0].tax",
        ),
        ({"riders": [{"name": "X", "kind": "fixed", "amount_per_month": "1"}] * 2}, "riders[1].name"),
        ({"riders": [{"name": "X", "kind": "flat"}]}, "riders[0].kind"),
    ],
)
def test_bad_commercial_charges_are_refused_naming_the_field(extra, field):
    with pytest.raises(InvalidTariffDocument) as error:
        parse_tariff_document(doc(**extra))
    assert error.value.field == field


def test_urdb_demand_tou_window_ratchet_and_minimum_are_imported_and_coincident_is_reported():
    from pricing.urdb import urdb_to_document

    schedule = [[0] * 14 + [1] * 6 + [0] * 4] * 12
    result = urdb_to_document(
        {
            "state": "IL",
            "energyratestructure": [[{"rate": 0.1}]],
            "flatdemandstructure": [[{"rate": 4.25}]],
            "demandratestructure": [[{"rate": 2.0}], [{"rate": 12.5, "adj": 0.5}]],
            "demandweekdayschedule": schedule,
            "demandweekendschedule": [[0] * 24] * 12,
            "demandwindow": 15,
            "lookbackpercent": 0.8,
            "lookbackrange": 11,
            "mincharge": 1.5,
            "minchargeunits": "$/day",
            "coincidentratestructure": [[{"rate": 3.0}]],
        }
    )
    demand = result.document["demand"]
    assert demand["tou"]["rates_per_kw"] == {"d1": "2", "d2": "13"}
    assert demand["tou"]["weekday"][0][14] == "d2"
    assert (demand["averaging_minutes"], demand["ratchet"]) == (15, {"percent": "80", "months": 11})
    assert result.document["minimum_charge_per_month"] == "45.63"  # 1.5 × 365 / 12 = 45.625
    assert any(w.startswith("coincidentratestructure:") for w in result.warnings)
    parse_tariff_document(result.document)
