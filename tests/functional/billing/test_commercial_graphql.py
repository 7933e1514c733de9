"""A commercial tariff billed end to end through the GraphQL contract: tariffVersionPublish →
agreementCreate → billRunStart → invoice, over the October DST change, against hand-computed lines
(docs/commercial-tariffs.md)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.services.bill_runs import bill_run_execute

pytestmark = pytest.mark.django_db

D = Decimal
FIRST = datetime(2024, 10, 25, 23, tzinfo=UTC)  # 2024-10-26 00:00 BST; 26-27 October have 48 + 50 half-hours
SPIKES = {
    datetime(2024, 10, 26, 15, tzinfo=UTC): "2.0",  # 16:00 BST: off-peak, 4 kW over the hour
    datetime(2024, 10, 26, 15, 30, tzinfo=UTC): "2.0",
    datetime(2024, 10, 27, 17, tzinfo=UTC): "1.5",  # 17:00 GMT (the clocks went back): peak, 3 kW
    datetime(2024, 10, 27, 17, 30, tzinfo=UTC): "1.5",
}
DOCUMENT = {
    "format": "tariff/v1",
    "currency": "GBP",
    "timezone": "Europe/London",
    "energy": {"kind": "flat", "rate_per_kwh": "0.10"},
    "demand": {
        "rate_per_kw": "2.00",
        "averaging_minutes": 60,
        "tou": {
            "rates_per_kw": {"peak": "5.00", "off": "1.00"},
            "weekday": ["off"] * 24,
            "weekend": ["off"] * 17 + ["peak"] * 2 + ["off"] * 5,
        },
    },
    "minimum_charge_per_month": "600.00",
    "riders": [
        {"name": "Levy", "kind": "fixed", "amount_per_month": "31.00", "tax": "exempt"},
        {"name": "Fuel", "kind": "percentage", "rate": "0.10", "tax": {"name": "FT", "rate": "0.20"}},
    ],
    "tax": {"name": "VAT", "rate": "0.05"},
}


def _mutation(name: str, returns: str) -> str:
    input_type = name[0].upper() + name[1:] + "Input"
    return f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ {returns} }} }}"


M = {
    "tariffCreate": _mutation("tariffCreate", "... on Tariff { code }"),
    "tariffVersionPublish": _mutation(
        "tariffVersionPublish",
        "... on TariffVersion { validFrom } ... on OperationInfo { messages { code field message } }",
    ),
    "customerCreate": _mutation("customerCreate", "... on Customer { accountNumber }"),
    "meterPointCreate": _mutation("meterPointCreate", "... on MeterPoint { identifier }"),
    "meterInstall": _mutation("meterInstall", "... on Meter { serial }"),
    "readingsIngest": _mutation("readingsIngest", "... on IngestResult { accepted }"),
    "agreementCreate": _mutation("agreementCreate", "... on Agreement { tariffCode }"),
    "billRunStart": _mutation("billRunStart", "... on BillRun { id }"),
}
INVOICES = """query { invoices(first: 5, accountNumber: "CI-1") { edges { node {
  netAmount taxAmount totalAmount lines { kind band quantity amount }
  taxes { name baseAmount amount } } } } }"""


def test_a_commercial_bill_through_the_graphql_contract(gql_as, staff):
    gql = gql_as(staff)

    def call(name, payload):
        result = gql(M[name], {"i": payload})
        assert result.get("errors") is None, result
        assert result["data"][name] is not None
        return result["data"][name]

    call("tariffCreate", {"code": "CI-TOU", "name": "Commercial ToU demand", "direction": "IMPORT"})
    published = call(
        "tariffVersionPublish",
        {"tariffCode": "CI-TOU", "validFrom": "2024-01-01T00:00:00Z", "document": DOCUMENT},
    )
    assert "messages" not in published
    call("customerCreate", {"accountNumber": "CI-1", "name": "Works Ltd"})
    call("meterPointCreate", {"identifier": "MP-CI-1"})
    call(
        "meterInstall",
        {
            "meterPointIdentifier": "MP-CI-1",
            "serial": "CI-M1",
            "direction": "IMPORT",
            "installedAt": "2024-01-01T00:00:00Z",
        },
    )
    readings = []
    for i in range(98):
        start = FIRST + timedelta(minutes=30 * i)
        kwh = SPIKES.get(start, "0.5")
        readings.append(
            {
                "intervalStart": start.isoformat(),
                "intervalEnd": (start + timedelta(minutes=30)).isoformat(),
                "kwh": kwh,
            }
        )
    assert call("readingsIngest", {"meterSerial": "CI-M1", "readings": readings})["accepted"] == 98
    call(
        "agreementCreate",
        {
            "accountNumber": "CI-1",
            "meterPointIdentifier": "MP-CI-1",
            "tariffCode": "CI-TOU",
            "validFrom": "2024-01-01T00:00:00Z",
        },
    )
    run = call(
        "billRunStart", {"periodStart": "2024-10-26", "periodEnd": "2024-10-28", "idempotencyKey": "ci-gql"}
    )
    bill_run_execute(
        bill_run_id=int(run["id"]), now=datetime(2024, 11, 1, tzinfo=UTC)
    )  # what the queued task runs

    [edge] = gql(INVOICES)["data"]["invoices"]["edges"]
    invoice = edge["node"]
    assert sorted(
        (line["kind"], line["band"], D(line["quantity"]), D(line["amount"])) for line in invoice["lines"]
    ) == sorted(
        [
            ("ENERGY", "flat", D("54.0000"), D("5.40")),  # 98 × 0.5 + 5 kWh of spikes
            ("DEMAND", "", D("4.0000"), D("8.00")),
            ("DEMAND", "peak", D("3.0000"), D("15.00")),
            ("DEMAND", "off", D("4.0000"), D("4.00")),
            ("MINIMUM_CHARGE", "", D("2.0000"), D("6.31")),  # 600 × 2/31 = 38.71 − 32.40
            ("RIDER", "Levy", D("0.0645"), D("2.00")),  # 31 × 2/31, tax-exempt
            ("RIDER", "Fuel", D("38.7100"), D("3.87")),  # 10 % of 38.71, its own tax FT 20 %
        ]
    )
    assert [(t["name"], D(t["baseAmount"]), D(t["amount"])) for t in invoice["taxes"]] == [
        ("FT", D("3.87"), D("0.77")),
        ("VAT", D("38.71"), D("1.94")),
    ]
    assert (D(invoice["netAmount"]), D(invoice["taxAmount"]), D(invoice["totalAmount"])) == (
        D("44.58"),
        D("2.71"),
        D("47.29"),
    )
