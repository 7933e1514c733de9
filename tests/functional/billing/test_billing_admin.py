"""Staff work on billing in admin: issued invoices stay read-only, bill runs show their progress."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from billing.models import BillRun, BillRunItem, CreditNote, Invoice
from tests.functional.billing.test_portal import make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def change_post(invoice: Invoice, **changes) -> dict:
    data = {
        "customer": invoice.customer_id,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "currency": invoice.currency,
        "net_amount": "1.00",
        "tax_amount": "0.00",
        "total_amount": "1.00",
        "readings_as_of_0": "2024-01-09",
        "readings_as_of_1": "00:00:00",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "taxes-TOTAL_FORMS": "0",
        "taxes-INITIAL_FORMS": "0",
        "taxes-MIN_NUM_FORMS": "0",
        "taxes-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_an_issued_invoice_is_shown_read_only_and_a_change_post_alters_nothing(staff_client, customer_a):
    invoice = make_invoice(customer_a, "INV-000101")
    before = Invoice.objects.values().get(pk=invoice.pk)

    page = staff_client.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    response = staff_client.post(f"/admin/billing/invoice/{invoice.pk}/change/", change_post(invoice))

    assert page.status_code == 200
    assert b'name="net_amount"' not in page.content
    assert b"Energy, off-peak" in page.content
    assert b"0.050000" in page.content  # the VAT row of its taxes
    assert response.status_code == 403
    assert Invoice.objects.values().get(pk=invoice.pk) == before


def test_an_issued_or_void_invoice_cannot_be_deleted(staff_client, customer_a):
    issued = make_invoice(customer_a, "INV-000101")
    void = make_invoice(
        customer_a,
        "INV-000050",
        status=Invoice.Status.VOID,
        period_start=date(2023, 11, 1),
        period_end=date(2023, 12, 1),
    )

    single = staff_client.post(f"/admin/billing/invoice/{issued.pk}/delete/", {"post": "yes"})
    staff_client.post(
        "/admin/billing/invoice/",
        {"action": "delete_selected", "_selected_action": [issued.pk, void.pk], "post": "yes"},
    )

    assert single.status_code == 403
    assert Invoice.objects.count() == 2


def test_a_draft_invoice_is_shown_but_its_amounts_are_not_edited_by_hand(staff_client, customer_a):
    draft = make_invoice(customer_a, None, status=Invoice.Status.DRAFT)
    net_before = draft.net_amount

    page = staff_client.get(f"/admin/billing/invoice/{draft.pk}/change/")
    staff_client.post(f"/admin/billing/invoice/{draft.pk}/change/", {"net_amount": "999.99"})

    assert page.status_code == 200
    assert b'name="net_amount"' not in page.content
    draft.refresh_from_db()
    assert draft.net_amount == net_before


def test_the_invoice_page_shows_its_audit_trail(staff_client, customer_a, staff):
    invoice = make_invoice(customer_a, "INV-000101")
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Invoice),
        object_pk=str(invoice.pk),
        object_id=invoice.pk,
        object_repr=str(invoice),
        action=LogEntry.Action.UPDATE,
        changes={"status": ["DRAFT", "ISSUED"]},
        actor=staff,
    )

    page = staff_client.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    history = staff_client.get(f"/admin/billing/invoice/{invoice.pk}/auditlog/")

    assert b"audit trail" in page.content.lower()
    assert b"ISSUED" in page.content
    assert b"staff-user" in page.content
    assert history.status_code == 200


def test_issue_and_void_actions_call_the_invoice_services(staff_client, customer_a, monkeypatch):
    draft = make_invoice(customer_a, None, status=Invoice.Status.DRAFT)
    issued = make_invoice(
        customer_a, "INV-000050", period_start=date(2023, 11, 1), period_end=date(2023, 12, 1)
    )
    calls = []
    monkeypatch.setattr(
        "billing.services.invoices.invoice_issue",
        lambda *, number, now, actor=None: calls.append(("issue", number, actor.username)),
    )
    monkeypatch.setattr(
        "billing.services.invoices.invoice_void",
        lambda *, number, reason, now, actor=None: calls.append(("void", number, reason)),
    )

    staff_client.post("/admin/billing/invoice/", {"action": "issue_invoices", "_selected_action": [draft.pk]})
    staff_client.post("/admin/billing/invoice/", {"action": "void_invoices", "_selected_action": [issued.pk]})

    assert calls == [
        ("issue", f"DRAFT-{draft.pk}", "staff-user"),
        ("void", "INV-000050", "Voided in admin by staff-user"),
    ]


def test_the_bill_run_list_shows_status_progress_and_counts(staff_client, customer_a):
    run = BillRun.objects.create(
        idempotency_key="run-2024-01",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        status=BillRun.Status.RUNNING,
        accounts_total=40,
        accounts_done=17,
        invoice_count=15,
        held_count=2,
        errors=["ACC-X: no readings"],
    )
    BillRunItem.objects.create(
        bill_run=run, customer=customer_a, outcome=BillRunItem.Outcome.HELD, reason="Readings missing"
    )

    listing = staff_client.get("/admin/billing/billrun/")
    detail = staff_client.get(f"/admin/billing/billrun/{run.pk}/change/")

    assert listing.status_code == 200
    assert b"RUNNING" in listing.content
    assert b"17/40" in listing.content
    assert b"ACC-X: no readings" in detail.content
    assert b"Readings missing" in detail.content


def test_starting_a_bill_run_in_admin_calls_the_service(staff_client, monkeypatch):
    calls = []

    def bill_run_start(*, period_start, period_end, idempotency_key, account_numbers=None, now, **_):
        calls.append((period_start, period_end, account_numbers, idempotency_key))
        return BillRun.objects.create(
            idempotency_key=idempotency_key, period_start=period_start, period_end=period_end
        )

    monkeypatch.setattr("billing.services.bill_runs.bill_run_start", bill_run_start)

    response = staff_client.post(
        "/admin/billing/billrun/add/",
        {
            "period_start": "2024-01-01",
            "period_end": "2024-02-01",
            "accounts": "ACC-A, ACC-B",
            "idempotency_key": "jan-2024",
        },
    )

    run = BillRun.objects.get()
    assert calls == [(date(2024, 1, 1), date(2024, 2, 1), ["ACC-A", "ACC-B"], "jan-2024")]
    assert response.status_code == 302
    assert response["Location"] == f"/admin/billing/billrun/{run.pk}/change/"


def test_credit_notes_are_read_only(staff_client, customer_a):
    invoice = make_invoice(customer_a, "INV-000050", status=Invoice.Status.VOID)
    note = CreditNote.objects.create(
        number="CN-000001",
        invoice=invoice,
        reason="Wrong readings",
        net_amount=invoice.net_amount,
        tax_amount=invoice.tax_amount,
        total_amount=invoice.total_amount,
        issued_at=invoice.issued_at,
    )

    assert staff_client.get("/admin/billing/creditnote/").status_code == 200
    assert staff_client.get("/admin/billing/creditnote/add/").status_code == 403
    staff_client.post(f"/admin/billing/creditnote/{note.pk}/change/", {"reason": "changed"})
    assert CreditNote.objects.get().reason == "Wrong readings"


def test_starting_a_bill_run_twice_with_one_key_gives_one_run(staff_client):
    form = {"period_start": "2024-01-01", "period_end": "2024-02-01", "accounts": "", "idempotency_key": "k1"}

    first = staff_client.post("/admin/billing/billrun/add/", form)
    second = staff_client.post("/admin/billing/billrun/add/", form)

    run = BillRun.objects.get()
    assert run.idempotency_key == "k1"
    assert first["Location"] == second["Location"] == f"/admin/billing/billrun/{run.pk}/change/"


def test_a_bill_run_with_an_empty_period_is_refused_in_the_form(staff_client):
    response = staff_client.post(
        "/admin/billing/billrun/add/", {"period_start": "2024-02-01", "period_end": "2024-01-01"}
    )

    assert response.status_code == 200
    assert b"The period end must be after its start." in response.content
    assert not BillRun.objects.exists()
