"""Invoice documents behind expiring signed links (`Invoice.pdfUrl` in the API); no session needed."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billing import document_links
from billing.exports import pdf
from billing.selectors import invoices as invoice_selectors


@require_GET
def invoice_pdf_signed(request: HttpRequest, token: str) -> HttpResponse:
    """The invoice's PDF when the link's signature is intact and younger than INVOICE_PDF_URL_MAX_AGE:
    403 for a link not signed here (or altered), 410 for an expired one, 404 for a deleted invoice."""
    try:
        invoice_id = document_links.invoice_id_from_token(token, max_age=settings.INVOICE_PDF_URL_MAX_AGE)
    except document_links.LinkExpired:
        return HttpResponse("This link has expired; ask the API for a new one.", status=410)
    except document_links.LinkInvalid:
        return HttpResponse("This link is not valid.", status=403)
    invoice = invoice_selectors.invoice_get_by_id(invoice_id=invoice_id)
    if invoice is None:
        return HttpResponse("No such invoice.", status=404)
    response = HttpResponse(pdf.invoice_pdf(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf.bill_filename(invoice, "pdf")}"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
