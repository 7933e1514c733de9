"""An open tariff version used by an issued invoice after B cannot end at B (issue 10 item 2; check 29)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone as django_timezone

from billing.models import Invoice
from billing.services.invoices import invoice_issue
from pricing.models import TariffVersion
from pricing.services.tariffs import TariffVersionInUse, tariff_version_publish
from tests.integration.billing.test_bill_runs import (
    RUN_AT,
    flat_document,
    make_accounts,
    make_tariff,
    start_and_execute,
)


@pytest.mark.django_db
def test_a_version_billed_by_an_issued_invoice_after_b_cannot_end_at_b():
    """Check 29: October was invoiced with the open version; a price from 15 October is refused (naming
    the invoice and the field), a price from 1 November is accepted."""
    make_accounts(make_tariff(), 1)
    start_and_execute()
    issued = invoice_issue(number=f"DRAFT-{Invoice.objects.get().pk}", now=RUN_AT)

    with pytest.raises(TariffVersionInUse) as refused:
        tariff_version_publish(
            tariff_code="FLAT",
            valid_from=datetime(2024, 10, 15, tzinfo=UTC),
            valid_to=None,
            document=flat_document("0.30"),
            now=django_timezone.now(),
        )
    assert refused.value.field == "valid_from"
    assert issued.number in str(refused.value)
    assert TariffVersion.objects.get().valid_to is None

    tariff_version_publish(
        tariff_code="FLAT",
        valid_from=datetime(2024, 11, 1, tzinfo=UTC),  # 1 November, local midnight (GMT)
        valid_to=None,
        document=flat_document("0.30"),
        now=django_timezone.now(),
    )
    assert TariffVersion.objects.count() == 2
