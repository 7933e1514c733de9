"""Reads of invoices and bill runs.

A draft has no number until it is issued; until then it is referred to by its provisional reference
`DRAFT-<id>` (see `draft_reference`), which is never stored and cannot collide with an issued number
(`INV-…`). Customers never see drafts: a draft may still be re-run or held.
"""

import re
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from billing.currencies import quantum
from billing.models import BillRun, BillRunItem, Invoice, InvoiceAdjustment, InvoiceLine, InvoiceTax

DRAFT_PREFIX = "DRAFT-"
_DRAFT_REFERENCE = re.compile(r"^DRAFT-([1-9][0-9]{0,17})$")


def draft_reference(invoice: Invoice) -> str:
    """The provisional reference of a draft: `DRAFT-<id>`."""
    return f"{DRAFT_PREFIX}{invoice.pk}"


def invoice_reference(invoice: Invoice) -> str:
    """The invoice number once issued, the provisional draft reference before."""
    return invoice.number or draft_reference(invoice)


def draft_id_of(reference: str) -> int | None:
    """The id a `DRAFT-<id>` reference names, or None when `reference` is not a draft reference."""
    match = _DRAFT_REFERENCE.match(reference.strip())
    return int(match.group(1)) if match else None


def invoice_list(
    *, account_number: str | None = None, status: str | None = None, visible_to_user=None
) -> QuerySet[Invoice]:
    """Invoices, newest period first (ties broken by id); a customer (`visible_to_user`) sees only the
    issued or voided invoices of their own account."""
    invoices = Invoice.objects.all()
    if visible_to_user is not None:
        invoices = invoices.filter(customer__user=visible_to_user).exclude(status=Invoice.Status.DRAFT)
    if account_number is not None:
        invoices = invoices.filter(customer__account_number=account_number)
    if status is not None:
        invoices = invoices.filter(status=status)
    return invoices.order_by("-period_start", "-id")


def invoice_list_with_lines(**filters) -> QuerySet[Invoice]:
    """`invoice_list` with the customer joined and the lines prefetched in line order."""
    return (
        invoice_list(**filters)
        .select_related("customer")
        .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("id")))
    )


def invoice_get(*, number: str, visible_to_user=None) -> Invoice | None:
    """The invoice with this number, or the draft with this `DRAFT-<id>` reference."""
    invoices = invoice_list(visible_to_user=visible_to_user)
    draft_id = draft_id_of(number)
    if draft_id is not None:
        return invoices.filter(pk=draft_id, number__isnull=True).first()
    return invoices.filter(number=number.strip()).first()


def invoice_get_with_lines(*, number: str, visible_to_user=None) -> Invoice | None:
    """The issued or voided invoice with this number, its customer joined, its lines and taxes prefetched."""
    return (
        invoice_list_with_lines(visible_to_user=visible_to_user)
        .prefetch_related(Prefetch("taxes", queryset=InvoiceTax.objects.order_by("name", "rate")))
        .filter(number=number.strip())
        .first()
    )


def bill_run_get(*, bill_run_id: int) -> BillRun | None:
    return BillRun.objects.filter(pk=bill_run_id).first()


def bill_run_item_list(*, bill_run_id: int, outcome: str | None = None) -> QuerySet[BillRunItem]:
    """A run's per-account outcomes (invoiced, held with the reason, failed), by account number."""
    items = BillRunItem.objects.filter(bill_run_id=bill_run_id)
    if outcome is not None:
        items = items.filter(outcome=outcome)
    return items.select_related("customer").order_by("customer__account_number", "id")


def invoice_issued_using_tariff_version(*, tariff_version_id: int, period_end_after: date) -> Invoice | None:
    """The first issued invoice with a line priced by the tariff version whose period ends after the local
    date `period_end_after` (it billed days from that date on), or None."""
    return (
        Invoice.objects.filter(
            status=Invoice.Status.ISSUED,
            period_end__gt=period_end_after,
            lines__tariff_version_id=tariff_version_id,
        )
        .order_by("period_start", "pk")
        .first()
    )


def invoice_remaining_total(invoice: Invoice) -> Decimal:
    """What can still be credited of an issued invoice: its total less its adjustments (0 once void)."""
    if invoice.status == Invoice.Status.VOID:
        return Decimal(0).quantize(quantum(invoice.currency))
    credited = InvoiceAdjustment.objects.filter(invoice=invoice).aggregate(total=Sum("total_amount"))["total"]
    return (invoice.total_amount - (credited or Decimal(0))).quantize(quantum(invoice.currency))
