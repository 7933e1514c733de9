"""Permission matrix of every billing operation (anonymous, bad token, token without the scope, token with
it, staff, customers A and B): denial changes nothing, and another customer's object is NOT_FOUND, as one
that does not exist. Also the agreement rules behind `agreementCreate` and the plain JSON invoice view."""

import types
from datetime import UTC, date, datetime

import pytest

from billing.models import Agreement, BillRun, CreditNote, Invoice
from billing.services.agreements import AgreementOverlaps, UnableToCreateAgreement, agreement_create
from metering.services.meters import meter_point_create
from pricing.models import Tariff
from tests.conftest import error_codes
from tests.functional.billing.test_invoice_lifecycle import make_invoice

pytestmark = pytest.mark.django_db

DENIED = ("UNAUTHENTICATED", "FORBIDDEN")
ISSUED_A = "INV-00000901"
ISSUED_B = "INV-00000902"


@pytest.fixture
def world(customer_a, customer_b):
    """Customer A with an issued invoice and a draft; B with an issued invoice; a meter point and tariffs."""
    issued_a = make_invoice(customer_a, month=1, status=Invoice.Status.ISSUED, number=ISSUED_A)
    draft_a = make_invoice(customer_a, month=2)
    issued_b = make_invoice(customer_b, month=1, status=Invoice.Status.ISSUED, number=ISSUED_B)
    meter_point_create(identifier="MP-OPS")
    Tariff.objects.create(code="AGILE", name="Agile", direction="IMPORT")
    Tariff.objects.create(code="OUTGOING", name="Outgoing", direction="EXPORT")
    BillRun.objects.create(
        idempotency_key="existing", period_start=date(2026, 1, 1), period_end=date(2026, 2, 1)
    )
    return types.SimpleNamespace(issued_a=issued_a, draft_a=draft_a, issued_b=issued_b)


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "token_other_scope": ("metering:read", "metering:write"),
            "token_read": ("billing:read",),
            "token_write": ("billing:read", "billing:write"),
        },
    )


ALL_CALLERS = [
    "anonymous",
    "bad_token",
    "token_other_scope",
    "token_read",
    "token_write",
    "staff",
    "customer_a",
    "customer_b",
]


def expectation(caller: str, *, customers: str, read_only: str) -> str:
    """What a caller gets: DENIED codes, or `allowed`/`absent`."""
    return {
        "anonymous": "UNAUTHENTICATED",
        "bad_token": "UNAUTHENTICATED",
        "token_other_scope": "FORBIDDEN",
        "token_read": read_only,
        "token_write": "allowed",
        "staff": "allowed",
        "customer_a": customers if customers != "own" else "allowed",
        "customer_b": customers if customers != "own" else "absent",
    }[caller]


def matrix(**kwargs):
    return pytest.mark.parametrize(
        ("caller", "expected"), [(c, expectation(c, **kwargs)) for c in ALL_CALLERS], indirect=["caller"]
    )


INVOICES = """query($status: InvoiceStatus) { invoices(first: 10, status: $status) {
  totalCount edges { node { number accountNumber status lines { kind amount } } } } }"""
INVOICE = """query($n: String!) { invoice(number: $n) { number accountNumber totalAmount lines { kind }
  taxAmount taxes { name rate baseAmount amount } } }"""
CUSTOMER = """query { customer(accountNumber: "ACC-A") { accountNumber
  agreements { tariffCode } invoices(first: 5) { totalCount edges { node { number } } } } }"""
BILL_RUN = """query($id: ID!) { billRun(id: $id) { id status invoiceCount errors
  accountsTotal accountsDone startedAt finishedAt } }"""
ISSUE = """mutation($n: String!) { invoiceIssue(input: {number: $n}) {
  ... on Invoice { number status } ... on OperationInfo { messages { code field } } } }"""
VOID = """mutation($n: String!) { invoiceVoid(input: {number: $n, reason: "duplicate"}) {
  ... on CreditNote { number } ... on OperationInfo { messages { code field } } } }"""
AGREEMENT = """mutation($input: AgreementCreateInput!) { agreementCreate(input: $input) {
  ... on Agreement { accountNumber meterPointIdentifier tariffCode exportTariffCode validFrom validTo }
  ... on OperationInfo { messages { code field message } } } }"""
BILL_RUN_START = """mutation($input: BillRunStartInput!) { billRunStart(input: $input) {
  ... on BillRun { id status } ... on OperationInfo { messages { code field } } } }"""
AGREEMENT_INPUT = {
    "accountNumber": "ACC-A",
    "meterPointIdentifier": "MP-OPS",
    "tariffCode": "AGILE",
    "exportTariffCode": "OUTGOING",
    "validFrom": "2026-01-01T00:00:00+00:00",
}


def assert_denied(result: dict, expected: str, field: str) -> None:
    assert error_codes(result) == [expected]
    assert (result.get("data") or {}).get(field) is None


VISIBLE = {  # what each caller finds among A's issued invoice and draft and B's issued invoice
    "token_read": "all",
    "token_write": "all",
    "staff": "all",
    "customer_a": {ISSUED_A},  # own account, no drafts
    "customer_b": {ISSUED_B},
}


def visible(caller: str, world) -> set[str]:
    seen = VISIBLE[caller]
    return {ISSUED_A, ISSUED_B, f"DRAFT-{world.draft_a.pk}"} if seen == "all" else seen


@pytest.mark.parametrize("caller", ALL_CALLERS, indirect=True)
def test_invoices_lists_only_what_the_caller_may_see(world, caller, request):
    name = request.node.callspec.params["caller"]
    expected = expectation(name, customers="own", read_only="allowed")

    result = caller(INVOICES)

    if expected in DENIED:
        return assert_denied(result, expected, "invoices")
    assert "errors" not in result
    numbers = {e["node"]["number"] for e in result["data"]["invoices"]["edges"]}
    assert numbers == visible(name, world)
    assert result["data"]["invoices"]["totalCount"] == len(numbers)


@matrix(customers="own", read_only="allowed")
def test_invoice_is_absent_for_another_customer(world, caller, expected):
    result = caller(INVOICE, {"n": ISSUED_A})

    if expected in DENIED:
        return assert_denied(result, expected, "invoice")
    if expected == "absent":  # another customer's invoice is NOT_FOUND, as one that does not exist
        assert_denied(result, "NOT_FOUND", "invoice")
    else:
        assert "errors" not in result
        assert result["data"]["invoice"]["accountNumber"] == "ACC-A"
        assert result["data"]["invoice"]["totalAmount"] == "31.50"
        assert [line["kind"] for line in result["data"]["invoice"]["lines"]] == [
            "ENERGY",
            "STANDING_CHARGE",
            "ENERGY",
        ]
        assert result["data"]["invoice"]["taxAmount"] == "1.50"
        assert result["data"]["invoice"]["taxes"] == [
            {"name": "VAT", "rate": "0.050000", "baseAmount": "30.00", "amount": "1.50"}
        ]


@pytest.mark.parametrize("caller", ["token_read", "customer_a"], indirect=True)
def test_drafts_are_found_by_their_reference_but_not_by_customers(world, caller):
    result = caller(INVOICE, {"n": f"DRAFT-{world.draft_a.pk}"})

    found = result["data"]["invoice"]
    if "Bearer" in str(caller.headers):
        assert found["number"] == f"DRAFT-{world.draft_a.pk}"
    else:
        assert found is None


@pytest.mark.parametrize("caller", ALL_CALLERS, indirect=True)
def test_customer_with_agreements_and_invoices(world, caller, request):
    name = request.node.callspec.params["caller"]
    expected = expectation(name, customers="own", read_only="allowed")
    agreement_create(
        account_number="ACC-A",
        meter_point_identifier="MP-OPS",
        tariff_code="AGILE",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    )

    result = caller(CUSTOMER)

    if expected in DENIED:
        return assert_denied(result, expected, "customer")
    if expected == "absent":  # another customer's account is NOT_FOUND, as one that does not exist
        return assert_denied(result, "NOT_FOUND", "customer")
    assert "errors" not in result
    customer = result["data"]["customer"]
    assert customer["agreements"] == [{"tariffCode": "AGILE"}]
    numbers = {e["node"]["number"] for e in customer["invoices"]["edges"]}
    assert numbers == visible(name, world) - {ISSUED_B}


@matrix(customers="FORBIDDEN", read_only="allowed")
def test_bill_run_needs_billing_read(world, caller, expected):
    run = BillRun.objects.get(idempotency_key="existing")

    result = caller(BILL_RUN, {"id": str(run.pk)})

    if expected in DENIED:
        return assert_denied(result, expected, "billRun")
    assert result["data"]["billRun"] == {
        "id": str(run.pk),
        "status": "PENDING",
        "invoiceCount": 0,
        "errors": [],
        "accountsTotal": 0,
        "accountsDone": 0,
        "startedAt": None,
        "finishedAt": None,
    }


@matrix(customers="FORBIDDEN", read_only="FORBIDDEN")
def test_invoice_issue_needs_billing_write(world, caller, expected):
    result = caller(ISSUE, {"n": f"DRAFT-{world.draft_a.pk}"})

    world.draft_a.refresh_from_db()
    if expected in DENIED:
        assert_denied(result, expected, "invoiceIssue")
        assert (world.draft_a.status, world.draft_a.number) == ("DRAFT", None)
    else:
        assert result["data"]["invoiceIssue"] == {"number": "INV-00000001", "status": "ISSUED"}
        assert world.draft_a.number == "INV-00000001"


@matrix(customers="FORBIDDEN", read_only="FORBIDDEN")
def test_invoice_void_needs_billing_write(world, caller, expected):
    result = caller(VOID, {"n": ISSUED_A})

    world.issued_a.refresh_from_db()
    if expected in DENIED:
        assert_denied(result, expected, "invoiceVoid")
        assert world.issued_a.status == "ISSUED"
        assert not CreditNote.objects.exists()
    else:
        assert result["data"]["invoiceVoid"] == {"number": "CN-00000001"}
        assert world.issued_a.status == "VOID"


@matrix(customers="FORBIDDEN", read_only="FORBIDDEN")
def test_agreement_create_needs_billing_write(world, caller, expected):
    result = caller(AGREEMENT, {"input": AGREEMENT_INPUT})

    if expected in DENIED:
        assert_denied(result, expected, "agreementCreate")
        assert not Agreement.objects.exists()
    else:
        assert result["data"]["agreementCreate"] == {
            "accountNumber": "ACC-A",
            "meterPointIdentifier": "MP-OPS",
            "tariffCode": "AGILE",
            "exportTariffCode": "OUTGOING",
            "validFrom": "2026-01-01T00:00:00+00:00",
            "validTo": None,
        }
        assert Agreement.objects.count() == 1


@matrix(customers="FORBIDDEN", read_only="FORBIDDEN")
def test_bill_run_start_needs_billing_write(world, caller, expected):
    variables = {"input": {"periodStart": "2026-02-01", "periodEnd": "2026-03-01", "idempotencyKey": "feb"}}

    result = caller(BILL_RUN_START, variables)

    if expected in DENIED:
        assert_denied(result, expected, "billRunStart")
        assert not BillRun.objects.filter(idempotency_key="feb").exists()
    else:
        run = BillRun.objects.get(idempotency_key="feb")
        assert result["data"]["billRunStart"] == {"id": str(run.pk), "status": run.status}
        again = caller(BILL_RUN_START, variables)
        assert again["data"]["billRunStart"]["id"] == str(run.pk)
        assert BillRun.objects.filter(idempotency_key="feb").count() == 1


def test_agreement_create_is_idempotent_and_names_the_bad_field(world, gql_as, make_token):
    gql = gql_as(make_token("billing:write"))

    first = gql(AGREEMENT, {"input": AGREEMENT_INPUT})
    again = gql(AGREEMENT, {"input": AGREEMENT_INPUT})
    unknown = {
        field: gql(AGREEMENT, {"input": {**AGREEMENT_INPUT, key: "NOPE"}})["data"]["agreementCreate"][
            "messages"
        ][0]
        for field, key in [
            ("accountNumber", "accountNumber"),
            ("meterPointIdentifier", "meterPointIdentifier"),
            ("tariffCode", "tariffCode"),
            ("exportTariffCode", "exportTariffCode"),
        ]
    }
    swapped = gql(
        AGREEMENT, {"input": {**AGREEMENT_INPUT, "tariffCode": "OUTGOING", "exportTariffCode": "AGILE"}}
    )

    assert first["data"] == again["data"]
    assert Agreement.objects.count() == 1
    assert {field: (m["code"], m["field"]) for field, m in unknown.items()} == {
        "accountNumber": ("NOT_FOUND", "accountNumber"),
        "meterPointIdentifier": ("NOT_FOUND", "meterPointIdentifier"),
        "tariffCode": ("NOT_FOUND", "tariffCode"),
        "exportTariffCode": ("NOT_FOUND", "exportTariffCode"),
    }
    assert swapped["data"]["agreementCreate"]["messages"][0]["code"] == "tariff_direction_mismatch"


def test_agreements_of_a_meter_point_never_overlap(world):
    jan, feb, mar = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    agreement_create(
        account_number="ACC-A",
        meter_point_identifier="MP-OPS",
        tariff_code="AGILE",
        valid_from=jan,
        valid_to=feb,
    )

    with pytest.raises(AgreementOverlaps):
        agreement_create(
            account_number="ACC-B",
            meter_point_identifier="MP-OPS",
            tariff_code="AGILE",
            valid_from=datetime(2026, 1, 15, tzinfo=UTC),
        )
    with pytest.raises(UnableToCreateAgreement):
        agreement_create(
            account_number="ACC-B",
            meter_point_identifier="MP-OPS",
            tariff_code="AGILE",
            valid_from=mar,
            valid_to=feb,
        )
    follow_on = agreement_create(
        account_number="ACC-B", meter_point_identifier="MP-OPS", tariff_code="AGILE", valid_from=feb
    )

    assert follow_on.valid_from == feb
    assert Agreement.objects.count() == 2


@pytest.mark.postgres
def test_the_exclusion_constraint_is_reported_as_an_overlap(world, monkeypatch):
    """The service check bypassed (as in a race): PostgreSQL's constraint refuses with the same error."""
    agreement_create(
        account_number="ACC-A",
        meter_point_identifier="MP-OPS",
        tariff_code="AGILE",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    )
    real_filter = Agreement.objects.filter

    def no_overlap_seen(*args, **kwargs):
        qs = real_filter(*args, **kwargs)
        return qs.none() if "meter_point" in kwargs else qs

    monkeypatch.setattr(Agreement.objects, "filter", no_overlap_seen)

    with pytest.raises(AgreementOverlaps):
        agreement_create(
            account_number="ACC-B",
            meter_point_identifier="MP-OPS",
            tariff_code="AGILE",
            valid_from=datetime(2026, 6, 1, tzinfo=UTC),
        )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("bad_token", 401),
        ("token_other_scope", 403),
        ("customer_a", 403),
        ("token_read", 200),
        ("staff", 200),
    ],
)
def test_plain_invoice_view_is_for_staff_and_billing_readers(
    world, client, make_token, staff, customer_a, who, status
):
    headers = {}
    if who == "bad_token":
        headers = {"Authorization": "Bearer nope"}
    elif who.startswith("token"):
        scopes = ("billing:read",) if who == "token_read" else ("metering:read",)
        headers = {"Authorization": f"Bearer {make_token(*scopes).token}"}
    elif who in ("staff", "customer_a"):
        client.force_login(staff if who == "staff" else customer_a.user)

    response = client.get("/api/plain/invoices", headers=headers)

    assert response.status_code == status
    if status == 200:
        invoices = response.json()["invoices"]
        assert len(invoices) == 3
        assert {i["number"] for i in invoices} >= {ISSUED_A, ISSUED_B}
        assert len(invoices[0]["lines"]) == 3
