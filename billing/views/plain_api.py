"""A plain JSON view of invoices with lines, for benchmarking the GraphQL API against; not public API.

Staff sessions and bearer tokens with `billing:read` only; serves the same rows in the same order as
`invoices(first: N)`.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from billing.models import Invoice
from billing.selectors.invoices import invoice_list_with_lines, invoice_reference
from core.api.auth import Kind, get_principal

MAX_FIRST = 500


@require_GET
def invoices_plain(request: HttpRequest) -> JsonResponse:
    principal = get_principal(request)
    if principal.kind in (Kind.ANONYMOUS, Kind.INVALID_TOKEN):
        return JsonResponse({"error": "Authentication required."}, status=401)
    if principal.kind not in (Kind.STAFF, Kind.CLIENT) or "billing:read" not in principal.scopes:
        return JsonResponse({"error": "This needs the scope 'billing:read'."}, status=403)
    try:
        first = min(max(int(request.GET.get("first", "100")), 0), MAX_FIRST)
    except ValueError:
        return JsonResponse({"error": "first must be a whole number."}, status=400)
    invoices = list(invoice_list_with_lines()[:first])
    return JsonResponse({"invoices": [_invoice(invoice) for invoice in invoices]})


def _invoice(invoice: Invoice) -> dict:
    return {
        "number": invoice_reference(invoice),
        "accountNumber": invoice.customer.account_number,
        "periodStart": invoice.period_start.isoformat(),
        "periodEnd": invoice.period_end.isoformat(),
        "status": invoice.status,
        "currency": invoice.currency,
        "netAmount": str(invoice.net_amount),
        "taxAmount": str(invoice.tax_amount),
        "totalAmount": str(invoice.total_amount),
        "lines": [
            {
                "kind": line.kind,
                "band": line.band,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit": line.unit,
                "unitPrice": None if line.unit_price is None else str(line.unit_price),
                "amount": str(line.amount),
                "estimated": line.estimated,
            }
            for line in invoice.lines.all()
        ],
    }
