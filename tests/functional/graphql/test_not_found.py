"""One code for "not found" everywhere: every operation that looks an object up by its identifier answers
NOT_FOUND for one that does not exist (queries: `errors[].extensions.code`; mutations: the OperationInfo
message's `code`), naming the argument or input field."""

import pytest

pytestmark = pytest.mark.django_db

PERIOD = 'periodFrom: "2024-01-15T00:00:00Z", periodTo: "2024-01-16T00:00:00Z"'

QUERIES = [
    ("customer", '{ customer(accountNumber: "NOPE") { name } }', "accountNumber"),
    ("invoice", '{ invoice(number: "INV-NOPE") { number } }', "number"),
    ("billRun", '{ billRun(id: "999999") { id } }', "id"),
    ("billRun", '{ billRun(id: "not-a-number") { id } }', "id"),
    ("meterPoint", '{ meterPoint(identifier: "NOPE") { identifier } }', "identifier"),
    ("tariff", '{ tariff(code: "NOPE") { code } }', "code"),
    ("unitRates", '{ unitRates(tariffCode: "NOPE", ' + PERIOD + ") { band } }", "tariffCode"),
    ("marketPrices", '{ marketPrices(market: "NOPE", ' + PERIOD + ") { pricePerMwh } }", "market"),
    ("marketAnalytics", '{ marketAnalytics(market: "NOPE", ' + PERIOD + ") { market } }", "market"),
    (
        "publishedRates",
        '{ publishedRates(tariffCode: "NOPE", day: "2024-01-15") { ratePerKwh } }',
        "tariffCode",
    ),
    ("gridNetwork", '{ gridNetwork(name: "NOPE") { name } }', "name"),
    ("powerFlowRun", '{ powerFlowRun(id: "999999") { id } }', "id"),
    ("sheddingPlan", '{ sheddingPlan(id: "999999") { id } }', "id"),
    ("openadrEvents", '{ openadrEvents(planId: "999999") }', "planId"),
    ("scenario", '{ scenario(id: "999999") { id } }', "id"),
    ("scheduleRun", '{ scheduleRun(id: "999999") { id } }', "id"),
    ("forecastBacktest", '{ forecastBacktest(id: "999999") { id } }', "id"),
    ("tariffComparisonRun", '{ tariffComparisonRun(id: "999999") { id } }', "id"),
]

MUTATIONS = [
    ("meterInstall", 'meterInstall(input: {meterPointIdentifier: "NOPE", serial: "S-1", direction: IMPORT})',
     "meterPointIdentifier"),
    ("marketUpdate", 'marketUpdate(input: {code: "NOPE", name: "x"})', "code"),
    ("marketPricesImport", 'marketPricesImport(input: {market: "NOPE", currency: "EUR", prices: []})',
     "market"),
    ("tariffVersionPublish",
     'tariffVersionPublish(input: {tariffCode: "NOPE", validFrom: "2024-01-01T00:00:00Z", document: {}})',
     "tariffCode"),
    ("pricingEventDeclare",
     'pricingEventDeclare(input: {kind: CRITICAL_PEAK, start: "2030-01-15T17:00:00Z", '
     'end: "2030-01-15T19:00:00Z", tariffCodes: ["NOPE"]})', "tariffCodes"),
    ("agreementCreate",
     'agreementCreate(input: {accountNumber: "NOPE", meterPointIdentifier: "NOPE", tariffCode: "NOPE", '
     'validFrom: "2024-01-01T00:00:00Z"})', "accountNumber"),
    ("invoiceIssue", 'invoiceIssue(input: {number: "DRAFT-999999"})', "number"),
    ("invoiceVoid", 'invoiceVoid(input: {number: "INV-NOPE", reason: "x"})', "number"),
    ("dynamicPricesPublish", 'dynamicPricesPublish(input: {tariffCode: "NOPE", day: "2024-01-15"})',
     "tariffCode"),
]  # fmt: skip


@pytest.fixture
def staff_api(gql_as, staff):
    return gql_as(staff)


@pytest.mark.parametrize(
    ("name", "query", "field"), QUERIES, ids=[q[0] + str(i) for i, q in enumerate(QUERIES)]
)
def test_a_lookup_query_answers_not_found(staff_api, name, query, field):
    result = staff_api(query)

    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"], result
    assert result["errors"][0]["extensions"].get("field") == field
    assert (result.get("data") or {}).get(name) is None


@pytest.mark.parametrize(("name", "mutation", "field"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_lookup_mutation_answers_not_found(staff_api, name, mutation, field):
    result = staff_api("mutation { " + mutation + " { ... on OperationInfo { messages { code field } } } }")

    messages = (result.get("data") or {}).get(name, {}) or {}
    codes = [m["code"] for m in messages.get("messages", [])] or [
        e["extensions"]["code"] for e in result.get("errors", [])
    ]
    assert codes[:1] == ["NOT_FOUND"], result
    assert messages["messages"][0]["field"] == field
