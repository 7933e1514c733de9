"""URDB import: the tariff/v1 documents made from OpenEI rate items and the warnings for what is left out."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pricing.models import Tariff, TariffVersion

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "urdb"
TOU_CODE = "URDB-5e1a2b3c4d5e6f7a8b9c0d1e"


def run(*args: str) -> str:
    out = StringIO()
    call_command("tariff_import_urdb", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_tou_rate_with_demand_is_imported_and_its_unsupported_parts_are_reported():
    output = run(str(FIXTURES / "il_small_commercial_tou.json"))

    version = TariffVersion.objects.get(tariff__code=TOU_CODE)
    document = version.document
    assert Tariff.objects.get(code=TOU_CODE).name == "Small Commercial Time-of-Use (SC-TOU)"
    assert version.valid_from.isoformat() == "2024-01-01T06:00:00+00:00"  # local midnight in Chicago
    assert version.valid_to is None
    assert document["timezone"] == "America/Chicago"
    assert document["currency"] == "USD"
    assert document["standing_charge_per_day"] == "0.36"  # $10.95/month × 12 / 365
    assert document["demand"]["rate_per_kw"] == "4.25"
    assert document["demand"]["tou"]["rates_per_kw"] == {"d1": "12.5", "d2": "3.1"}
    assert document["minimum_charge_per_month"] == "5"
    assert document["energy"]["rates_per_kwh"] == {"p1": "0.0875", "p2": "0.1566"}  # rate + adj
    assert document["energy"]["weekday"][0] == ["p1"] * 24  # January
    assert document["energy"]["weekday"][6] == ["p1"] * 14 + ["p2"] * 6 + ["p1"] * 4  # July
    assert document["energy"]["weekend"] == [["p1"] * 24] * 12
    warnings = [line.split("warning: ", 1)[1] for line in output.splitlines() if "warning: " in line]
    assert warnings == [
        "energyratestructure[0][0]: sell rate 0.04 (export credit) cannot be expressed and was not imported",
        "energyratestructure[1]: 2 tiers within a time-of-use period cannot be expressed (TOU × tiers);"
        " imported the first tier's rate 0.1566 for all consumption",
    ]
    assert f"{TOU_CODE}: published tou version" in output


def test_tiered_and_flat_items_of_a_list_are_imported_with_their_periods():
    output = run(str(FIXTURES / "tiered_and_flat_items.json"))

    tiered = TariffVersion.objects.get(tariff__code="URDB-5e1a2b3c4d5e6f7a8b9c0d2f")
    flat = TariffVersion.objects.get(tariff__code="URDB-5e1a2b3c4d5e6f7a8b9c0d30")
    assert tiered.document["energy"] == {
        "kind": "tiered",
        "tiers": [
            {"up_to_kwh": "300", "rate_per_kwh": "0.25"},
            {"up_to_kwh": "700", "rate_per_kwh": "0.3125"},
            {"up_to_kwh": None, "rate_per_kwh": "0.4"},
        ],
    }
    assert tiered.document["standing_charge_per_day"] == "0.33"
    assert (tiered.valid_from.isoformat(), tiered.valid_to.isoformat()) == (
        "2024-06-01T07:00:00+00:00",
        "2025-01-01T08:00:00+00:00",
    )
    assert flat.document["energy"] == {"kind": "flat", "rate_per_kwh": "0.123457"}
    assert "TX spans several time zones; used America/Chicago" in output
    assert "rate + adj = 0.1234567 rounded to 0.123457" in output


def test_a_dry_run_stores_nothing_and_strict_refuses_unsupported_parts():
    output = run(str(FIXTURES / "il_small_commercial_tou.json"), "--dry-run", "--code", "SC-TOU")

    with pytest.raises(CommandError, match="1 of 1 item"):
        run(str(FIXTURES / "il_small_commercial_tou.json"), "--strict")

    assert json.loads(output[output.index("{") :])["code"] == "SC-TOU"
    assert not Tariff.objects.exists()


def test_importing_the_same_file_twice_publishes_once():
    run(str(FIXTURES / "il_small_commercial_tou.json"), "--valid-from", "2024-03-01")
    run(str(FIXTURES / "il_small_commercial_tou.json"), "--valid-from", "2024-03-01")

    assert TariffVersion.objects.count() == 1
