"""Tariff GraphQL operations: permissions, domain errors as OperationInfo, immutability, audit; admin."""

from datetime import UTC, datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from config.schema import schema
from pricing.models import PricingEvent, Tariff, TariffVersion
from tests.conftest import WRITE_MATRIX, error_codes
from tests.integration.pricing.test_tariffs import JAN, doc, publish

pytestmark = pytest.mark.django_db

CREATE = """mutation($input: TariffCreateInput!) { tariffCreate(input: $input) {
  ... on Tariff { code name direction } ... on OperationInfo { messages { kind code field message } } } }"""
PUBLISH = """mutation($input: TariffVersionPublishInput!) { tariffVersionPublish(input: $input) {
  ... on TariffVersion { validFrom validTo document }
  ... on OperationInfo { messages { kind code field message } } } }"""
DECLARE = """mutation($input: PricingEventDeclareInput!) { pricingEventDeclare(input: $input) {
  ... on PricingEvent { kind start end tariffCodes }
  ... on OperationInfo { messages { kind code field message } } } }"""
TARIFF = """query($code: String!) {
  tariff(code: $code) { code name direction versions { validFrom validTo document } } }"""
UNIT_RATES = """query($code: String!, $from: DateTime!, $to: DateTime!) {
  unitRates(tariffCode: $code, periodFrom: $from, periodTo: $to) { validFrom validTo valuePerKwh band } }"""

EVENTS = {"critical_peak": {"rate_per_kwh": "0.4000"}, "emergency": {"rate_per_kwh": "0.8000"}}
PUBLISH_INPUT = {
    "tariffCode": "FLAT-1",
    "validFrom": "2024-01-01T00:00:00Z",
    "validTo": None,
    "document": doc(),
}
DECLARE_INPUT = {
    "kind": "CRITICAL_PEAK",
    "start": "2024-01-15T17:00:00Z",
    "end": "2024-01-15T19:00:00Z",
    "tariffCodes": ["EVT-1"],
}


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {"read": ("pricing:read",), "write": ("pricing:write",), "other": ("billing:read", "metering:write")},
    )


READ_MATRIX = [
    ("anonymous", "UNAUTHENTICATED"),
    ("bad_token", "UNAUTHENTICATED"),
    ("other", "FORBIDDEN"),
    ("write", "FORBIDDEN"),
    ("customer", "FORBIDDEN"),
    ("read", None),
    ("staff", None),
]


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_tariff_create_permissions(caller, denied):
    result = caller(CREATE, {"input": {"code": "FLAT-1", "name": "Flat", "direction": "EXPORT"}})

    if denied:
        assert error_codes(result) == [denied]
        assert not Tariff.objects.exists()
    else:
        assert result["data"]["tariffCreate"] == {"code": "FLAT-1", "name": "Flat", "direction": "EXPORT"}


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_tariff_version_publish_permissions(caller, denied):
    Tariff.objects.create(code="FLAT-1", name="Flat")

    result = caller(PUBLISH, {"input": PUBLISH_INPUT})

    if denied:
        assert error_codes(result) == [denied]
        assert not TariffVersion.objects.exists()
    else:
        assert result["data"]["tariffVersionPublish"] == {
            "validFrom": "2024-01-01T00:00:00+00:00",
            "validTo": None,
            "document": doc(),
        }


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_pricing_event_declare_permissions(caller, denied):
    publish("EVT-1", JAN, None, doc(events=EVENTS))

    result = caller(DECLARE, {"input": DECLARE_INPUT})

    if denied:
        assert error_codes(result) == [denied]
        assert not PricingEvent.objects.exists()
    else:
        assert result["data"]["pricingEventDeclare"] == {
            "kind": "CRITICAL_PEAK",
            "start": "2024-01-15T17:00:00+00:00",
            "end": "2024-01-15T19:00:00+00:00",
            "tariffCodes": ["EVT-1"],
        }


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_tariff_query_permissions(caller, denied):
    publish("FLAT-1", JAN, datetime(2024, 2, 1, tzinfo=UTC), doc())
    publish("FLAT-1", datetime(2024, 2, 1, tzinfo=UTC), None, doc({"kind": "flat", "rate_per_kwh": "0.30"}))

    result = caller(TARIFF, {"code": "FLAT-1"})

    if denied:
        assert error_codes(result) == [denied]
    else:
        tariff = result["data"]["tariff"]
        assert (tariff["code"], tariff["direction"]) == ("FLAT-1", "IMPORT")
        assert [(v["validFrom"], v["validTo"]) for v in tariff["versions"]] == [
            ("2024-01-01T00:00:00+00:00", "2024-02-01T00:00:00+00:00"),
            ("2024-02-01T00:00:00+00:00", None),
        ]
        assert tariff["versions"][1]["document"]["energy"]["rate_per_kwh"] == "0.30"


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_unit_rates_permissions(caller, denied):
    publish("FLAT-1", JAN, None, doc())

    result = caller(
        UNIT_RATES, {"code": "FLAT-1", "from": "2024-01-15T00:00:00Z", "to": "2024-01-15T01:00:00Z"}
    )

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert result["data"]["unitRates"] == [
            {
                "validFrom": "2024-01-15T00:00:00+00:00",
                "validTo": "2024-01-15T00:30:00+00:00",
                "valuePerKwh": "0.245000",
                "band": "flat",
            },
            {
                "validFrom": "2024-01-15T00:30:00+00:00",
                "validTo": "2024-01-15T01:00:00+00:00",
                "valuePerKwh": "0.245000",
                "band": "flat",
            },
        ]


@pytest.fixture
def writer(gql_as, make_token):
    return gql_as(make_token("pricing:write"))


def test_an_overlapping_version_is_refused_with_a_message_naming_the_field(writer):
    existing = publish("FLAT-1", JAN, JAN.replace(year=2025), doc())  # closed: an open end would move

    result = writer(PUBLISH, {"input": {**PUBLISH_INPUT, "validFrom": "2024-06-01T00:00:00+01:00"}})

    [message] = result["data"]["tariffVersionPublish"]["messages"]
    assert (message["code"], message["field"]) == ("tariff_version_overlap", "validFrom")
    assert message["message"].startswith(f"The period overlaps version {existing.pk} of tariff FLAT-1")
    assert TariffVersion.objects.count() == 1


def test_a_bad_document_is_refused_naming_the_path_inside_it(writer):
    Tariff.objects.create(code="FLAT-1", name="Flat")
    tiers = [{"up_to_kwh": "300", "rate_per_kwh": "0.20"}, {"up_to_kwh": None, "rate_per_kwh": "abc"}]

    result = writer(
        PUBLISH, {"input": {**PUBLISH_INPUT, "document": doc({"kind": "tiered", "tiers": tiers})}}
    )

    assert result["data"]["tariffVersionPublish"]["messages"] == [
        {
            "kind": "VALIDATION",
            "code": "invalid_tariff_document",
            "field": "document.energy.tiers[1].rate_per_kwh",
            "message": "must be a plain decimal such as \"0.2450\" (no exponent, NaN or Infinity), got 'abc'",
        }
    ]
    assert not TariffVersion.objects.exists()


def test_pricing_event_declare_names_an_unknown_tariff(writer):
    publish("EVT-1", JAN, None, doc(events=EVENTS))

    result = writer(DECLARE, {"input": {**DECLARE_INPUT, "tariffCodes": ["EVT-1", "GHOST"]}})

    assert result["data"]["pricingEventDeclare"]["messages"] == [
        {"kind": "VALIDATION", "code": "NOT_FOUND", "field": "tariffCodes", "message": "No tariff 'GHOST'."}
    ]
    assert not PricingEvent.objects.exists()


def test_unit_rates_errors_name_the_argument(gql_as, make_token):
    publish("FLAT-1", JAN, None, doc())

    result = gql_as(make_token("pricing:read"))(
        UNIT_RATES, {"code": "FLAT-1", "from": "2024-01-15T00:00:00Z", "to": "2025-03-01T00:00:00Z"}
    )

    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "periodTo"
    assert "at most 400 days" in error["message"]


def test_no_mutation_changes_or_removes_a_published_version(writer):
    mutations = schema.get_type_by_name("Mutation").fields
    version_mutations = sorted(f.python_name for f in mutations if "version" in f.python_name.lower())
    publish("FLAT-1", JAN, None, doc())

    replaced = writer(
        PUBLISH, {"input": {**PUBLISH_INPUT, "document": doc({"kind": "flat", "rate_per_kwh": "0.99"})}}
    )

    assert version_mutations == ["tariff_version_publish"]
    assert replaced["data"]["tariffVersionPublish"]["messages"][0]["code"] == "tariff_version_overlap"
    assert TariffVersion.objects.get().document == doc()


def test_publishing_through_the_api_is_audited_as_the_clients_service_account(gql_as, make_token):
    Tariff.objects.create(code="FLAT-1", name="Flat")
    token = make_token("pricing:write")

    gql_as(token)(PUBLISH, {"input": PUBLISH_INPUT})

    [entry] = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(TariffVersion))
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == token.application.user
    assert entry.actor.username == f"api-client:{token.application.name}"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_a_version_is_shown_read_only_in_admin_with_a_preview_of_a_weeks_rates(staff_client):
    hours = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5
    tou = {
        "kind": "tou",
        "rates_per_kwh": {"off_peak": "0.0800", "peak": "0.2000"},
        "weekday": hours,
        "weekend": hours,
    }
    version = publish("TOU-1", JAN, None, doc(tou))

    default = staff_client.get(f"/admin/pricing/tariffversion/{version.pk}/change/")
    chosen = staff_client.get(f"/admin/pricing/tariffversion/{version.pk}/change/", {"week": "2024-03-25"})
    tariff_page = staff_client.get(f"/admin/pricing/tariff/{version.tariff_id}/change/")

    assert default.status_code == 200
    assert b"Mon 01 Jan 2024 to Sun 07 Jan 2024 (Europe/London local time)" in default.content
    assert b'<input type="date" id="preview-week" value="2024-01-01"' in default.content  # the week picker
    assert b'href="?week=2024-01-08">next week' in default.content
    assert b"Mon 01 Jan 2024 16:00" in default.content
    assert b'<td class="num">0.200000</td><td class="num">20.000</td>' in default.content  # GBP/kWh, p/kWh
    assert b"<th>GBP/kWh</th><th>p/kWh</th>" in default.content  # units
    assert b'name="document"' not in default.content  # no editable field
    assert b'value="2024-03-25"' in chosen.content
    assert b"Sun 31 Mar 2024 16:00" in chosen.content  # the preview follows the clock change
    assert tariff_page.status_code == 200
    assert b"2024-01-01" in tariff_page.content
    assert b'name="versions-0-valid_from' not in tariff_page.content


def test_a_version_cannot_be_changed_added_or_deleted_in_admin(staff_client):
    version = publish("FLAT-1", JAN, None, doc())
    url = f"/admin/pricing/tariffversion/{version.pk}"

    changed = staff_client.post(f"{url}/change/", {"valid_from_0": "2020-01-01", "kind": "tou"})
    deleted = staff_client.post(f"{url}/delete/", {"post": "yes"})
    added = staff_client.get("/admin/pricing/tariffversion/add/")

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert added.status_code == 403
    assert TariffVersion.objects.values_list("valid_from", "kind").get() == (JAN, "flat")
