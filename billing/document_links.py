"""Expiring signed links to invoice documents (the PDF), for API clients that have no portal session.

The link carries the invoice id and the time it was signed, signed with the site's SECRET_KEY
(`django.core.signing.TimestampSigner`, a salt of its own); the view that serves it checks the signature
and the age (`INVOICE_PDF_URL_MAX_AGE` seconds). Anyone holding a valid link can fetch the document until
it expires, as with any pre-signed URL: hand it on only to whom may see the invoice.
"""

from django.core import signing

SALT = "billing.invoice-pdf"


class LinkExpired(Exception):
    """The link's signature is valid but older than the allowed age."""


class LinkInvalid(Exception):
    """The link was not signed here, or was altered."""


def invoice_pdf_token(*, invoice_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(invoice_id))


def invoice_id_from_token(token: str, *, max_age: int) -> int:
    """The invoice id a link names; LinkExpired or LinkInvalid when it may not be served."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        value = signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except signing.BadSignature as exc:
        raise LinkInvalid(str(exc)) from None
    if not value.isdigit():
        raise LinkInvalid("Not an invoice link.")
    return int(value)
