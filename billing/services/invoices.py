"""Issuing and voiding invoices: the only changes an invoice goes through after its bill run.

Numbers come from gap-free series (`InvoiceNumberSeries`): the next value is read and advanced under a
row lock in the issuing transaction, so a rolled-back issue gives its number back and two issues never
share one. Invoices are `INV-00000001`, credit notes `CN-00000001`.

A draft has no number yet; callers refer to it by its provisional reference `DRAFT-<id>` (what the API
shows as the draft's `number`). Issuing replaces it with the real number; the reference is never stored.

Every state change writes an auditlog entry in the same transaction; its actor is the one the request
middleware put in the audit context (the person, or the API client's service account), or `actor`.
"""

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from auditlog.models import LogEntry
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from billing.currencies import money_round, quantum
from billing.models import (
    Agreement,
    CreditNote,
    Invoice,
    InvoiceAdjustment,
    InvoiceAdjustmentLine,
    InvoiceLine,
    InvoiceNumberSeries,
)
from billing.selectors.invoices import draft_id_of, invoice_reference
from billing.services import webhooks
from billing.services.drafts import invoice_draft_rerate
from core.errors import NOT_FOUND, DomainError

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


class InvoiceNotFound(DomainError, code=NOT_FOUND): ...


class InvoiceNotDraft(DomainError, code="invoice_not_draft"): ...


class InvoiceNotIssued(DomainError, code="invoice_not_issued"): ...


class UnableToVoidInvoice(DomainError, code="invoice_void_invalid"): ...


class UnableToAdjustInvoice(DomainError, code="invoice_adjust_invalid"): ...


class AdjustmentExceedsRemaining(DomainError, code="adjustment_exceeds_remaining"): ...


class AdjustmentKeyReused(DomainError, code="idempotency_key_reused"): ...


def number_take(*, prefix: str) -> str:
    """Take the next number of the series `prefix`; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers are taken inside the transaction that uses them.")
    InvoiceNumberSeries.objects.get_or_create(prefix=prefix)
    series = InvoiceNumberSeries.objects.select_for_update().get(prefix=prefix)
    value = series.next_value
    series.next_value = value + 1
    series.save(update_fields=["next_value"])
    return f"{prefix}-{value:08d}"


@transaction.atomic
def invoice_issue(*, number: str, now: datetime, actor=None) -> Invoice:
    """Issue the draft `number` (its `DRAFT-<id>` reference): give it the next invoice number.

    A draft whose period's readings changed after it was computed is re-rated first (`drafts`). Issuing an
    invoice that is already issued (a replay, by its draft reference or its number) returns it unchanged."""
    draft_id = draft_id_of(number)
    invoices = Invoice.objects.select_for_update().select_related("customer")
    if draft_id is not None:
        invoice = invoices.filter(pk=draft_id).first()
    else:
        invoice = invoices.filter(number=number.strip()).first()
    if invoice is None:
        raise InvoiceNotFound(f"No invoice {number}.", field="number")
    if invoice.number is not None:
        return invoice  # a replay: the invoice as issued; nothing changes, nothing is sent again
    if invoice.status != Invoice.Status.DRAFT:
        raise InvoiceNotDraft(
            f"Invoice {invoice_reference(invoice)} is {invoice.status}; only drafts can be issued.",
            field="number",
        )
    invoice_draft_rerate(invoice=invoice, now=now, actor=actor)  # a stale draft never bills old data
    invoice.number = number_take(prefix=INVOICE_SERIES)
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at = now
    invoice.due_date = invoice_due_date(invoice, issued_at=now)
    invoice.save(update_fields=["number", "status", "issued_at", "due_date"])
    _audit(
        invoice,
        {
            "status": [Invoice.Status.DRAFT, Invoice.Status.ISSUED],
            "number": [None, invoice.number],
            "due_date": [None, invoice.due_date.isoformat()],
        },
        actor,
    )
    webhooks.webhook_event_record(event_type="invoice.issued", payload=invoice_summary(invoice), now=now)
    return invoice


@transaction.atomic
def invoice_void(*, number: str, reason: str, now: datetime, actor=None) -> CreditNote:
    """Cancel the issued invoice `number` in full with a credit note; the invoice becomes VOID.

    A replay (the invoice is already void for the same reason) returns its credit note unchanged; another
    reason is refused (`InvoiceNotIssued`)."""
    reason = (reason or "").strip()
    if not reason:
        raise UnableToVoidInvoice("Give the reason for voiding.", field="reason")
    if len(reason) > 300:
        raise UnableToVoidInvoice("The reason is at most 300 characters.", field="reason")
    invoice = (
        Invoice.objects.select_for_update().select_related("customer").filter(number=number.strip()).first()
        if draft_id_of(number) is None
        else None
    )
    if invoice is None:
        raise InvoiceNotFound(f"No issued invoice {number}.", field="number")
    if invoice.status == Invoice.Status.VOID:
        credit_note = CreditNote.objects.filter(invoice=invoice).first()
        if credit_note is not None and credit_note.reason == reason:
            return credit_note
    if invoice.status != Invoice.Status.ISSUED:
        raise InvoiceNotIssued(
            f"Invoice {invoice.number} is {invoice.status}; only issued invoices can be voided.",
            field="number",
        )
    # What earlier partial credits (adjustments) took off is not credited twice.
    net, tax, total = invoice_remaining(invoice)
    credit_note = CreditNote.objects.create(
        number=number_take(prefix=CREDIT_NOTE_SERIES),
        invoice=invoice,
        reason=reason,
        currency=invoice.currency,
        net_amount=net,
        tax_amount=tax,
        total_amount=total,
        issued_at=now,
    )
    invoice.status = Invoice.Status.VOID
    invoice.save(update_fields=["status"])
    _audit(invoice, {"status": [Invoice.Status.ISSUED, Invoice.Status.VOID]}, actor)
    _audit(
        credit_note,
        {"number": [None, credit_note.number], "invoice": [None, invoice.number]},
        actor,
        action=LogEntry.Action.CREATE,
    )
    webhooks.webhook_event_record(
        event_type="invoice.voided",
        payload={**invoice_summary(invoice), "creditNoteNumber": credit_note.number, "reason": reason},
        now=now,
    )
    return credit_note


def invoice_summary(invoice: Invoice) -> dict:
    """What a webhook says about an invoice (amounts as strings, like the API)."""

    def money(value: Decimal) -> str:
        return str(value)

    return {
        "number": invoice_reference(invoice),
        "accountNumber": invoice.customer.account_number,
        "periodStart": invoice.period_start.isoformat(),
        "periodEnd": invoice.period_end.isoformat(),
        "status": invoice.status,
        "currency": invoice.currency,
        "netAmount": money(invoice.net_amount),
        "taxAmount": money(invoice.tax_amount),
        "totalAmount": money(invoice.total_amount),
        "taxes": [
            {
                "name": tax.name,
                "rate": money(tax.rate),
                "baseAmount": money(tax.base_amount),
                "amount": money(tax.amount),
            }
            for tax in invoice.taxes.order_by("name", "rate")
        ],
        "issuedAt": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "dueDate": invoice.due_date.isoformat() if invoice.due_date else None,
    }


def invoice_due_date(invoice: Invoice, *, issued_at: datetime) -> date:
    """The issue date (UTC) plus the payment terms of the account's agreement in the invoice's period (the
    latest one starting before the period ends), or BILLING_PAYMENT_TERMS_DAYS when it names none."""
    period_end = datetime.combine(invoice.period_end, datetime.min.time(), tzinfo=issued_at.tzinfo)
    period_start = datetime.combine(invoice.period_start, datetime.min.time(), tzinfo=issued_at.tzinfo)
    terms = (
        Agreement.objects.filter(
            customer_id=invoice.customer_id, valid_from__lt=period_end + timedelta(days=1)
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=period_start - timedelta(days=1)))
        .order_by("-valid_from", "-pk")
        .values_list("payment_terms_days", flat=True)
        .first()
    )
    days = terms if terms is not None else settings.BILLING_PAYMENT_TERMS_DAYS
    return issued_at.date() + timedelta(days=days)


def invoice_remaining(invoice: Invoice) -> tuple[Decimal, Decimal, Decimal]:
    """Net, tax and total of the invoice that adjustments have not credited yet."""
    credited = InvoiceAdjustment.objects.filter(invoice=invoice).aggregate(
        net=Sum("net_amount"), tax=Sum("tax_amount"), total=Sum("total_amount")
    )
    zero = Decimal(0)
    unit = quantum(invoice.currency)
    return (
        (invoice.net_amount - (credited["net"] or zero)).quantize(unit),
        (invoice.tax_amount - (credited["tax"] or zero)).quantize(unit),
        (invoice.total_amount - (credited["total"] or zero)).quantize(unit),
    )


@transaction.atomic
def invoice_adjust(
    *,
    number: str,
    reason: str,
    idempotency_key: str,
    amount: Decimal | None = None,
    line_amounts: list[tuple[int, Decimal]] | None = None,
    now: datetime,
    actor=None,
) -> InvoiceAdjustment:
    """Credit part of the issued invoice `number` with a reason: a partial credit note (an
    `InvoiceAdjustment` numbered from the credit note series); the invoice stays ISSUED and unchanged.

    Either `amount` (a total including tax; its tax part is the invoice's remaining tax in proportion,
    ROUND_HALF_UP) or `line_amounts` (`(position of the line in the invoice, from 0, net amount)`; tax at
    the invoice's own tax/net ratio). The total never exceeds what remains creditable (the invoice's total
    less earlier adjustments), nor a line's credit its amount less earlier credits of that line. The same
    `idempotency_key` with the same content returns the adjustment made before; with other content it is
    refused."""
    reason = (reason or "").strip()
    if not reason:
        raise UnableToAdjustInvoice("Give the reason for the adjustment.", field="reason")
    if len(reason) > 300:
        raise UnableToAdjustInvoice("The reason is at most 300 characters.", field="reason")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 128:
        raise UnableToAdjustInvoice("The idempotency key is 1-128 characters.", field="idempotency_key")
    if (amount is None) == (not line_amounts):
        raise UnableToAdjustInvoice("Give either an amount or line amounts.", field="amount")
    invoice = (
        Invoice.objects.select_for_update().select_related("customer").filter(number=number.strip()).first()
        if draft_id_of(number) is None
        else None
    )
    if invoice is None:
        raise InvoiceNotFound(f"No issued invoice {number}.", field="number")
    replay = InvoiceAdjustment.objects.filter(invoice=invoice, idempotency_key=key).first()
    if replay is not None:
        return _adjust_replay(replay, reason=reason, amount=amount, line_amounts=line_amounts)
    if invoice.status != Invoice.Status.ISSUED:
        raise InvoiceNotIssued(
            f"Invoice {invoice.number} is {invoice.status}; only issued invoices can be adjusted.",
            field="number",
        )
    unit = quantum(invoice.currency)
    remaining_net, remaining_tax, remaining_total = invoice_remaining(invoice)
    credited_lines: dict[int, Decimal] = {}
    if amount is not None:
        _check_amount(amount, unit, field="amount")
        if amount > remaining_total:
            raise AdjustmentExceedsRemaining(
                f"At most {remaining_total} {invoice.currency} of invoice {invoice.number} "
                "remains creditable.",
                field="amount",
            )
        if amount == remaining_total:
            net, tax = remaining_net, remaining_tax
        else:
            tax = (amount * remaining_tax / remaining_total).quantize(unit, ROUND_HALF_UP)
            net = amount - tax
    else:
        assert line_amounts is not None
        lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("id"))
        already = dict(
            InvoiceAdjustmentLine.objects.filter(adjustment__invoice=invoice)
            .values("invoice_line_id")
            .annotate(total=Sum("amount"))
            .values_list("invoice_line_id", "total")
        )
        for position, line_amount in line_amounts:
            field = f"lines[{position}].amount"
            if not 0 <= position < len(lines):
                raise UnableToAdjustInvoice(
                    f"Invoice {invoice.number} has lines 0-{len(lines) - 1}.",
                    field=f"lines[{position}].index",
                )
            if lines[position].pk in credited_lines:
                raise UnableToAdjustInvoice("Each line once.", field=f"lines[{position}].index")
            _check_amount(line_amount, unit, field=field)
            line = lines[position]
            left = line.amount - already.get(line.pk, Decimal(0))
            if line_amount > left:
                raise AdjustmentExceedsRemaining(
                    f"At most {max(left, Decimal(0)).quantize(unit)} of line {position} ({line.description}) "
                    "remains creditable.",
                    field=field,
                )
            credited_lines[line.pk] = line_amount
        net = sum(credited_lines.values(), Decimal(0))
        ratio = invoice.tax_amount / invoice.net_amount if invoice.net_amount else Decimal(0)
        tax = min((net * ratio).quantize(unit, ROUND_HALF_UP), max(remaining_tax, Decimal(0)))
        if net + tax > remaining_total:
            raise AdjustmentExceedsRemaining(
                f"At most {remaining_total} {invoice.currency} of invoice {invoice.number} "
                "remains creditable.",
                field="lines",
            )
    adjustment = InvoiceAdjustment(
        number=number_take(prefix=CREDIT_NOTE_SERIES),
        invoice=invoice,
        reason=reason,
        idempotency_key=key,
        currency=invoice.currency,
        net_amount=net.quantize(unit),
        tax_amount=tax.quantize(unit),
        total_amount=(net + tax).quantize(unit),
        issued_at=now,
    )
    try:
        with transaction.atomic():
            adjustment.save()
    except IntegrityError:  # the same key raced in: the invoice row lock makes this rare
        replay = InvoiceAdjustment.objects.get(invoice=invoice, idempotency_key=key)
        return _adjust_replay(replay, reason=reason, amount=amount, line_amounts=line_amounts)
    InvoiceAdjustmentLine.objects.bulk_create(
        InvoiceAdjustmentLine(
            adjustment=adjustment, invoice_line_id=line_id, currency=invoice.currency, amount=a
        )
        for line_id, a in credited_lines.items()
    )
    _audit(
        adjustment,
        {
            "number": [None, adjustment.number],
            "invoice": [None, invoice.number],
            "reason": [None, reason],
            "total_amount": [None, str(adjustment.total_amount)],
            "lines": [None, str([(p, str(a)) for p, a in line_amounts or []])],
        },
        actor,
        action=LogEntry.Action.CREATE,
    )
    webhooks.webhook_event_record(
        event_type="invoice.adjusted",
        payload={**invoice_summary(invoice), "adjustment": adjustment_summary(adjustment, line_amounts)},
        now=now,
    )
    return adjustment


def adjustment_summary(adjustment: InvoiceAdjustment, line_amounts: list[tuple[int, Decimal]] | None) -> dict:
    _, _, remaining = invoice_remaining(adjustment.invoice)
    return {
        "number": adjustment.number,
        "reason": adjustment.reason,
        "netAmount": str(adjustment.net_amount),
        "taxAmount": str(adjustment.tax_amount),
        "totalAmount": str(adjustment.total_amount),
        "lines": [{"index": position, "amount": str(a)} for position, a in line_amounts or []],
        "remainingAmount": str(remaining),
        "issuedAt": adjustment.issued_at.isoformat(),
    }


def _check_amount(value: Decimal, unit: Decimal, *, field: str) -> None:
    if not value.is_finite() or value <= 0:
        raise UnableToAdjustInvoice("The amount must be more than 0.", field=field)
    if value != value.quantize(unit):
        raise UnableToAdjustInvoice(f"At most {-unit.as_tuple().exponent} decimals.", field=field)


def _adjust_replay(
    replay: InvoiceAdjustment,
    *,
    reason: str,
    amount: Decimal | None,
    line_amounts: list[tuple[int, Decimal]] | None,
) -> InvoiceAdjustment:
    """The adjustment made before with this key, if the request is the same; else refuse naming the field."""
    if replay.reason != reason:
        raise AdjustmentKeyReused(
            f"The idempotency key was used for adjustment {replay.number} with another reason.",
            field="reason",
        )
    if amount is not None:
        if replay.lines.exists() or replay.total_amount != amount:
            raise AdjustmentKeyReused(
                f"The idempotency key was used for adjustment {replay.number} of {replay.total_amount}.",
                field="amount",
            )
        return replay
    positions = {
        line_id: index
        for index, line_id in enumerate(
            InvoiceLine.objects.filter(invoice_id=replay.invoice_id)
            .order_by("id")
            .values_list("id", flat=True)
        )
    }
    before = sorted(
        (positions[line_id], a) for line_id, a in replay.lines.values_list("invoice_line_id", "amount")
    )
    if before != sorted((p, money_round(a, replay.currency)) for p, a in line_amounts or []):
        raise AdjustmentKeyReused(
            f"The idempotency key was used for adjustment {replay.number} of other lines.", field="lines"
        )
    return replay


def _audit(instance, changes: dict, actor, *, action=LogEntry.Action.UPDATE) -> None:
    extra = {"actor": actor} if actor is not None else {}
    LogEntry.objects.log_create(instance, action=action, changes=changes, force_log=True, **extra)
