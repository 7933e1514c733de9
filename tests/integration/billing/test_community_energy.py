"""Community energy on the database: P2P with a member's battery (hand-computed flows, bills and
self-sufficiency), and prosumers' self-sufficiency from PV generation meters in comparisons and P2P."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.models import Agreement, Customer
from billing.services.comparison import Cohort, tariff_comparison_compute
from billing.services.p2p import BatterySpec, UnableToSettleCommunity, p2p_community_compute
from metering.models import MeterPoint
from metering.services.meters import meter_install
from tests.factories.metering import half_hours, ingest, make_meter
from tests.integration.billing.test_p2p_community import tariff

D = Decimal
DAY = datetime(2024, 1, 15, tzinfo=UTC)  # GMT
SUNNY = range(20, 28)  # 10:00–14:00


def install(meter, serial, direction, values):
    added = meter_install(
        meter_point_identifier=meter.meter_point.identifier,
        serial=serial,
        direction=direction,
        installed_at=datetime(2020, 1, 1, tzinfo=UTC),
        resolution_minutes=30,
    )
    ingest(added, half_hours(DAY, 48, values))


@pytest.fixture
def community():
    """A: PV (generation 0.5 kWh, export 0.3 kWh a sunny half-hour, so 0.2 used at home), imports 0.1 kWh
    otherwise; B and C import 0.1 kWh every half-hour; B's meter point has a battery."""
    retail, export = tariff("RETAIL", "0.25"), tariff("EXPORT", "0.05", "EXPORT")
    for name in ("A", "B", "C"):
        meter = make_meter(f"CE-{name}", feeder="CE1")
        customer = Customer.objects.create(account_number=f"CE-{name}", name=name)
        Agreement.objects.create(
            customer=customer,
            meter_point=meter.meter_point,
            import_tariff=retail,
            export_tariff=export if name == "A" else None,
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
        ingest(meter, half_hours(DAY, 48, ["0" if name == "A" and i in SUNNY else "0.1" for i in range(48)]))
        if name == "A":
            install(meter, "CE-A-EXP", "EXPORT", ["0.3" if i in SUNNY else "0" for i in range(48)])
            install(meter, "CE-A-GEN", "GEN", ["0.5" if i in SUNNY else "0" for i in range(48)])
    MeterPoint.objects.filter(identifier="MP-CE-B").update(has_battery=True)


def compute(**kwargs):
    return p2p_community_compute(
        feeder_code="CE1",
        period_start=date(2024, 1, 15),
        period_end=date(2024, 1, 16),
        fee_per_kwh=D("0.02"),
        **kwargs,
    )


@pytest.mark.django_db
def test_a_members_battery_keeps_the_communitys_surplus_for_the_evening(community):
    plain = compute()
    stored = compute(battery=BatterySpec(capacity_kwh=D("2"), power_kw=D("1"), efficiency=D("1")))

    # Without storage each sunny half-hour 0.3 kWh of surplus meets 0.2 kWh of demand: 1.6 kWh traded.
    assert (plain.traded_kwh, plain.grid_import_kwh, plain.imported_kwh) == (D("1.6"), D("12.0"), D("13.6"))
    # With B's battery the 0.1 kWh left each sunny half-hour is stored (0.8 kWh); after 14:00 the community
    # needs 0.3 kWh a half-hour: B's battery gives B its own 0.1 and sells the rest to A and C (0.2, 0.2,
    # 0.1), until it is empty at 15:30.
    assert stored.battery_accounts == ["CE-B"]
    assert (stored.battery_charged_own_kwh, stored.battery_charged_community_kwh) == (D("0"), D("0.8"))
    assert (stored.battery_discharged_own_kwh, stored.battery_discharged_community_kwh) == (
        D("0.3"),
        D("0.5"),
    )
    assert stored.battery_losses_kwh == 0
    assert stored.traded_kwh == D("2.9")  # 8 × 0.3 at noon + 0.5 from the battery
    assert stored.grid_import_kwh == D("11.2")  # 12.0 − 0.3 − 0.5
    assert stored.self_sufficiency_with == pytest.approx(2.4 / 13.6)
    assert plain.self_sufficiency_with == pytest.approx(1.6 / 13.6)
    # Energy balance of the community: what the grid no longer supplies went through P2P and the battery.
    assert plain.grid_import_kwh - stored.grid_import_kwh == (
        stored.battery_discharged_own_kwh + stored.battery_discharged_community_kwh
    )

    # B is billed its grid import after battery and purchases: 2.0 (before noon) + 1.7 (after 15:30) kWh.
    lines = {line.kind: (line.quantity, line.amount) for line in stored.with_p2p["CE-B"].lines}
    assert lines["ENERGY"] == (D("3.7000"), D("0.93"))  # 3.7 × 0.25 = 0.925, half up
    assert lines["P2P_PURCHASE"][0] == D("1.6000")  # 0.2 kWh a sunny half-hour: its own and its battery's
    assert lines["P2P_SALE"][0] == D("0.5000")
    assert lines["P2P_FEE"] == (D("1.6000"), D("0.03"))  # 1.6 × 0.02 = 0.032
    assert stored.purchases + stored.sales == 0
    # A and C buy the battery's 0.5 kWh between them (equal bids: the clearing splits), C also 0.1 kWh a
    # sunny half-hour; each is billed for the rest of its demand from the grid
    a_lines = {line.kind: line.quantity for line in stored.with_p2p["CE-A"].lines}
    c_lines = {line.kind: line.quantity for line in stored.with_p2p["CE-C"].lines}
    assert a_lines["P2P_PURCHASE"] + c_lines["P2P_PURCHASE"] == D("0.8") + D("0.5")
    assert c_lines["ENERGY"] + c_lines["P2P_PURCHASE"] == D("4.8")
    assert a_lines["ENERGY"] + a_lines["P2P_PURCHASE"] == D("4.0")  # A's import without P2P

    # Self-sufficiency from A's generation meter: 1.6 kWh of PV used at home of 5.6 kWh consumed.
    a = stored.prosumers["CE-A"]
    assert (a.consumed_kwh_e4, a.generated_kwh_e4, a.self_consumed_kwh_e4) == (56_000, 40_000, 16_000)
    assert (a.self_sufficiency, a.self_consumption) == (pytest.approx(1.6 / 5.6), pytest.approx(0.4))
    assert stored.consumption_kwh == D("15.2")  # 13.6 imported + 1.6 of A's own PV
    assert stored.consumption_self_sufficiency_without == pytest.approx(1.6 / 15.2)
    assert stored.consumption_self_sufficiency_with == pytest.approx(1 - 11.2 / 15.2)
    assert plain.consumption_self_sufficiency_with == pytest.approx(1 - 12.0 / 15.2)


@pytest.mark.django_db
def test_listed_accounts_get_the_battery_and_a_lossy_battery_loses_energy(community):
    result = compute(
        battery=BatterySpec(capacity_kwh=D("2"), power_kw=D("1"), efficiency=D("0.5")),
        battery_accounts=["CE-B", "CE-C"],
    )
    assert result.battery_accounts == ["CE-B", "CE-C"]
    # 0.1 kWh of surplus a sunny half-hour goes to B's battery first (greedy, by account): 0.8 in, 0.4 kept
    assert result.battery_charged_community_kwh == D("0.8")
    assert result.battery_losses_kwh == D("0.4")
    delivered = result.battery_discharged_own_kwh + result.battery_discharged_community_kwh
    assert delivered == D("0.4")
    assert result.grid_import_kwh == D("12.0") - delivered
    assert result.purchases + result.sales == 0


@pytest.mark.django_db
def test_a_battery_with_an_impossible_efficiency_is_refused():
    with pytest.raises(UnableToSettleCommunity) as error:
        BatterySpec(capacity_kwh=D("5"), power_kw=D("3"), efficiency=D("1.2"))
    assert error.value.field == "battery_efficiency"


@pytest.mark.django_db
def test_the_comparison_reports_measured_self_sufficiency_and_does_not_bill_the_generation_meter(community):
    result = tariff_comparison_compute(
        tariff_codes=["RETAIL"],
        period_start=date(2024, 1, 15),
        period_end=date(2024, 1, 16),
        cohort=Cohort(feeder_code="CE1"),
    )
    assert result.prosumers == {
        "CE-A": {
            "consumed_kwh": "5.6000",
            "generated_kwh": "4.0000",
            "self_consumed_kwh": "1.6000",
            "self_sufficiency": pytest.approx(1.6 / 5.6),
            "self_consumption": pytest.approx(0.4),
        }
    }
    current = next(s for s in result.summaries if s.tariff_code == "current")
    assert current.self_sufficiency == pytest.approx(1.6 / 5.6)
    assert current.self_consumption == pytest.approx(0.4)
    # A: 4.0 kWh imported × 0.25 − 2.4 kWh exported × 0.05; the 4 kWh generated are not billed
    assert result.bills["CE-A"]["current"] == D("0.88")
    assert result.as_json()["prosumers"]["CE-A"]["self_consumed_kwh"] == "1.6000"


@pytest.mark.django_db
def test_the_p2p_settle_command_runs_the_battery_scenario_and_refuses_to_write_it(community):
    import io

    from django.core.management import CommandError, call_command

    out, err = io.StringIO(), io.StringIO()
    call_command(
        "p2p_settle",
        "--feeder=CE1",
        "--from=2024-01-15",
        "--to=2024-01-16",
        "--fee=0.02",
        "--battery-kwh=2",
        "--battery-kw=1",
        "--battery-efficiency=1",
        stdout=out,
        stderr=err,
    )
    assert "CE-B,1.20," in out.getvalue()
    assert "delivered 0.3000 kWh own + 0.5000 kWh to neighbours" in err.getvalue()
    assert "own PV 1.6000 kWh" in err.getvalue()
    with pytest.raises(CommandError, match="scenario"):
        call_command(
            "p2p_settle", "--feeder=CE1", "--from=2024-01-15", "--to=2024-01-16", "--battery-kwh=2", "--write"
        )


@pytest.mark.django_db(transaction=True)
def test_chunks_loaded_by_the_loader_thread_give_the_same_comparison(community):
    import threading

    from django.db import connection

    from billing.services import comparison as service

    assert not connection.in_atomic_block  # so the next chunk is loaded by a second thread
    loaders = set()
    original = service._account_inputs

    def spy(ids, context):
        loaders.add(threading.current_thread().name)
        return original(ids, context)

    service._account_inputs = spy
    try:
        result = tariff_comparison_compute(
            tariff_codes=["RETAIL"],
            period_start=date(2024, 1, 15),
            period_end=date(2024, 1, 16),
            cohort=Cohort(feeder_code="CE1"),
            chunk_size=1,
        )
    finally:
        service._account_inputs = original
    assert all(name.startswith("comparison-loader") for name in loaders)
    assert {n: b["current"] for n, b in result.bills.items()} == {
        "CE-A": D("0.88"),
        "CE-B": D("1.20"),
        "CE-C": D("1.20"),
    }
    assert result.prosumers["CE-A"]["self_consumed_kwh"] == "1.6000"


@pytest.mark.django_db
def test_graphql_tariff_comparison_lists_prosumers_with_generation_meters(community, gql_as, staff):
    query = """query($input: TariffComparisonInput!) { tariffComparison(input: $input) {
      summaries { tariffCode selfSufficiency selfConsumption }
      prosumers { accountNumber consumedKwh generatedKwh selfConsumedKwh
                  selfSufficiency selfConsumption } } }"""
    answer = gql_as(staff)(
        query,
        {"input": {"tariffCodes": ["RETAIL"], "periodStart": "2024-01-15", "periodEnd": "2024-01-16",
                   "feederCode": "CE1"}},
    )["data"]["tariffComparison"]  # fmt: skip
    assert answer["prosumers"] == [
        {
            "accountNumber": "CE-A",
            "consumedKwh": "5.6000",
            "generatedKwh": "4.0000",
            "selfConsumedKwh": "1.6000",
            "selfSufficiency": pytest.approx(1.6 / 5.6),
            "selfConsumption": pytest.approx(0.4),
        }
    ]
    assert answer["summaries"][0]["selfSufficiency"] == pytest.approx(1.6 / 5.6)
