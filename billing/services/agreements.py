"""Supply agreements: a meter point supplied to a customer under an import (and optional export) tariff.

Agreements of one meter point never overlap in time: checked here under a lock on the meter point, and on
PostgreSQL also by the exclusion constraint `agreement_no_overlap` (migrations/0003), whose violation is
reported as the same domain error.
"""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q

from billing.models import Agreement, Customer
from core.errors import NOT_FOUND, DomainError
from core.periods import check_period
from metering.selectors.readings import meter_point_get
from pricing.selectors.tariffs import TariffDirection, tariff_get

if TYPE_CHECKING:  # the annotation only: pricing is read through its selectors
    from pricing.models import Tariff


class UnableToCreateAgreement(DomainError, code="agreement_invalid"): ...


class AgreementOverlaps(DomainError, code="agreement_overlap"): ...


@transaction.atomic
def agreement_create(
    *,
    account_number: str,
    meter_point_identifier: str,
    tariff_code: str,
    export_tariff_code: str | None = None,
    valid_from: datetime,
    valid_to: datetime | None = None,
    payment_terms_days: int | None = None,
    minimum_charge_per_month: Decimal | None = None,
) -> Agreement:
    """Create an agreement over [valid_from, valid_to); repeating the same request returns the same one.

    `payment_terms_days` (0-365; None: the BILLING_PAYMENT_TERMS_DAYS setting) sets the due date of its
    invoices; `minimum_charge_per_month` (≥ 0, 2 decimals) the least it bills per month before tax."""
    check_period(valid_from, valid_to, fields=("valid_from", "valid_to"), error=UnableToCreateAgreement)
    agreement_terms_check(
        payment_terms_days=payment_terms_days, minimum_charge_per_month=minimum_charge_per_month
    )
    customer = Customer.objects.filter(account_number=account_number.strip()).first()
    if customer is None:
        raise UnableToCreateAgreement(
            f"No customer {account_number}.", field="account_number", code=NOT_FOUND
        )
    # The lock serialises agreements of one meter point, so the overlap check below is reliable.
    meter_point = meter_point_get(identifier=meter_point_identifier.strip(), for_update=True)
    if meter_point is None:
        raise UnableToCreateAgreement(
            f"No meter point {meter_point_identifier}.",
            field="meter_point_identifier",
            code=NOT_FOUND,
        )
    import_tariff = _tariff(tariff_code, TariffDirection.IMPORT, field="tariff_code")
    export_tariff = None
    if export_tariff_code:
        export_tariff = _tariff(export_tariff_code, TariffDirection.EXPORT, field="export_tariff_code")
    same = Agreement.objects.filter(
        customer=customer,
        meter_point=meter_point,
        import_tariff=import_tariff,
        export_tariff=export_tariff,
        valid_from=valid_from,
        valid_to=valid_to,
        payment_terms_days=payment_terms_days,
        minimum_charge_per_month=minimum_charge_per_month,
    ).first()
    if same is not None:
        return same
    overlapping = Agreement.objects.filter(meter_point=meter_point).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lt=valid_to)
    if overlapping.exists():
        raise _overlap(meter_point.identifier)
    agreement = Agreement(
        customer=customer,
        meter_point=meter_point,
        import_tariff=import_tariff,
        export_tariff=export_tariff,
        valid_from=valid_from,
        valid_to=valid_to,
        payment_terms_days=payment_terms_days,
        minimum_charge_per_month=minimum_charge_per_month,
    )
    try:
        with transaction.atomic():
            agreement.save()
    except IntegrityError as exc:
        if "agreement_no_overlap" in str(exc):
            raise _overlap(meter_point.identifier) from exc
        raise
    return agreement


MAX_PAYMENT_TERMS_DAYS = 365


def agreement_terms_check(
    *, payment_terms_days: int | None, minimum_charge_per_month: Decimal | None
) -> None:
    """Refuse payment terms outside 0-365 days and a minimum charge that is negative, not finite, or has
    more than 2 decimals (naming the field)."""
    if payment_terms_days is not None and not 0 <= payment_terms_days <= MAX_PAYMENT_TERMS_DAYS:
        raise UnableToCreateAgreement(
            f"Payment terms are 0-{MAX_PAYMENT_TERMS_DAYS} days.", field="payment_terms_days"
        )
    if minimum_charge_per_month is not None and (
        not minimum_charge_per_month.is_finite()
        or minimum_charge_per_month < 0
        or minimum_charge_per_month >= Decimal("1e10")
        or minimum_charge_per_month != minimum_charge_per_month.quantize(Decimal("0.01"))
    ):
        raise UnableToCreateAgreement(
            "The minimum charge per month is an amount ≥ 0 with at most 2 decimals.",
            field="minimum_charge_per_month",
        )


def _tariff(code: str, direction: str, *, field: str) -> "Tariff":
    tariff = tariff_get(code=code.strip())
    if tariff is None:
        raise UnableToCreateAgreement(f"No tariff {code}.", field=field, code=NOT_FOUND)
    if tariff.direction != direction:
        raise UnableToCreateAgreement(
            f"Tariff {code} is an {tariff.direction} tariff; {direction} is needed here.",
            field=field,
            code="tariff_direction_mismatch",
        )
    return tariff


def _overlap(identifier: str) -> AgreementOverlaps:
    return AgreementOverlaps(
        f"Meter point {identifier} has an agreement overlapping this period.", field="valid_from"
    )
