"""Reads of invoices and bill runs.

A draft has no number until it is issued; until then it is referred to by its provisional reference
`DRAFT-<id>` (see `draft_reference`), which is never stored and cannot collide with an issued number
(`INV-…`). Customers never see drafts: a draft may still be re-run or held.
"""

import re
from datetime import date, datetime
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


# Orderings a client may ask for: the API's name → the model field. Every ordering ends on the id.
INVOICE_ORDER_FIELDS = {
    "period_start": "period_start",
    "period_end": "period_end",
    "issued_at": "issued_at",
    "total_amount": "total_amount",
    "number": "number",
    "account_number": "customer__account_number",
}


def invoice_list(
    *,
    account_number: str | None = None,
    status: str | None = None,
    statuses: list[str] | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    order_by: list[tuple[str, bool]] | None = None,
    visible_to_user=None,
) -> QuerySet[Invoice]:
    """Invoices, newest period first unless `order_by` [(field, descending)] says otherwise (ties broken by
    id); a customer (`visible_to_user`) sees only the issued or voided invoices of their own account.

    `period_from`/`period_to`: invoices whose period [period_start, period_end) overlaps [from, to) (either
    bound may be open); `issued_from`/`issued_to`: issued in [from, to).
    """
    invoices = Invoice.objects.all()
    if visible_to_user is not None:
        invoices = invoices.filter(customer__user=visible_to_user).exclude(status=Invoice.Status.DRAFT)
    if account_number is not None:
        invoices = invoices.filter(customer__account_number=account_number)
    if status is not None:
        invoices = invoices.filter(status=status)
    if statuses:
        invoices = invoices.filter(status__in=statuses)
    if period_from is not None:
        invoices = invoices.filter(period_end__gt=period_from)
    if period_to is not None:
        invoices = invoices.filter(period_start__lt=period_to)
    if issued_from is not None:
        invoices = invoices.filter(issued_at__gte=issued_from)
    if issued_to is not None:
        invoices = invoices.filter(issued_at__lt=issued_to)
    if not order_by:
        return invoices.order_by("-period_start", "-id")
    keys = [f"{'-' if descending else ''}{INVOICE_ORDER_FIELDS[name]}" for name, descending in order_by]
    last_descending = order_by[-1][1]
    return invoices.order_by(*keys, "-id" if last_descending else "id")


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


def invoice_get_by_id(*, invoice_id: int) -> Invoice | None:
    """An invoice by its id (signed document links carry the id: drafts have no number)."""
    return Invoice.objects.select_related("customer").filter(pk=invoice_id).first()


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
