"""The demo's billing steps: its logins, a customer and agreement per household of one feeder, and a bill
run of one month whose invoices are issued."""

import csv
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import get_application_model

from billing.models import BillRun
from billing.selectors.invoices import draft_reference, invoice_list
from billing.services.agreements import agreement_create
from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.customers import customer_create, customer_portal_login_set
from billing.services.invoices import invoice_issue
from core.services import api_client_create
from metering.selectors.readings import meter_point_identifier_list

DEMO_CLIENT = "demo-billing-system"
DEMO_ACCOUNT = "DEMO-0001"


@dataclass
class DemoLogins:
    """The demo's logins: kept from run to run in DEMO_CREDENTIALS_FILE (git-ignored, mode 0600), because
    passwords and client secrets are stored hashed and cannot be shown again once printed."""

    staff_password: str
    customer_password: str
    client_id: str
    client_secret: str
    replaced: list[str] = field(default_factory=list)  # what this run had to replace, and why
    all_new: bool = False  # no saved login was reused (a first run, or a new database): every one is new


def _saved_logins(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _save_logins(path: Path, logins: DemoLogins) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: v for k, v in asdict(logins).items() if k not in {"replaced", "all_new"}}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(saved, out)


@transaction.atomic
def demo_logins_ensure(*, path: Path) -> DemoLogins:
    """Get or create the staff login, the customer's portal login and the API client of the demo.

    Credentials that the saved file holds and that still work are kept; a login or client that is missing,
    or whose secret is not in the file (e.g. the file was deleted), gets a new one, listed in `replaced`.
    """
    saved = _saved_logins(path)
    replaced = []
    kept = 0  # saved logins that still work and are printed again
    User = get_user_model()
    staff, _ = User.objects.get_or_create(username="staff", defaults={"email": "staff@example.org"})
    staff_password = saved.get("staff_password", "")
    if staff_password and staff.check_password(staff_password) and staff.is_staff and staff.is_superuser:
        kept += 1
    else:
        if staff.password and staff.has_usable_password():
            replaced.append("staff password")
        staff_password = secrets.token_urlsafe(9)
        staff.set_password(staff_password)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    customer = customer_create(
        account_number=DEMO_ACCOUNT, name="Demo Customer", email="customer@example.org"
    )
    customer_password = saved.get("customer_password", "")
    login = customer.user
    if customer_password and login is not None and login.check_password(customer_password):
        kept += 1
    else:
        if login is not None and login.password and login.has_usable_password():
            replaced.append("customer password")
        customer_password = secrets.token_urlsafe(9)
        customer_portal_login_set(customer=customer, username="customer", password=customer_password)
    Application = get_application_model()
    application = Application.objects.filter(name=DEMO_CLIENT).first()
    client_secret = saved.get("client_secret", "")
    if (
        application is not None
        and application.client_id == saved.get("client_id")
        and client_secret
        and check_password(client_secret, application.client_secret)
    ):
        client_id = application.client_id
        kept += 1
    else:
        if application is not None:
            replaced.append("API client (its secret is stored hashed and cannot be shown again)")
            service_account = application.user
            application.delete()
            if service_account is not None:
                service_account.delete()
        client, client_secret = api_client_create(name=DEMO_CLIENT, scopes=list(settings.API_SCOPES))
        client_id = client.application.client_id
    logins = DemoLogins(
        staff_password,
        customer_password,
        client_id,
        client_secret,
        replaced,
        all_new=not kept and not replaced,
    )
    _save_logins(path, logins)
    return logins


@dataclass(frozen=True)
class DemoAgreements:
    households: int
    dtou: int
    flat: int
    demo_household: str


def demo_agreements_create(
    *,
    feeder_code: str,
    household_info: Path,
    flat_code: str,
    dtou_code: str,
    valid_from: datetime,
) -> DemoAgreements:
    """One customer and agreement per household of the feeder: the ToU households of `household_info` (the
    trial's `stdorToU` column) on the dToU tariff, the rest flat. The demo customer (portal login
    "customer") is the first ToU household, so the portal shows dynamic prices."""
    with household_info.open(newline="") as rows:
        tou = {row["LCLid"] for row in csv.DictReader(rows) if row["stdorToU"] == "ToU"}
    households = sorted(meter_point_identifier_list(feeder_code=feeder_code))
    demo_household = min((h for h in households if h in tou), default=households[0])
    for household in households:
        account = DEMO_ACCOUNT if household == demo_household else f"LCL-{household}"
        if household != demo_household:
            customer_create(account_number=account, name=f"Household {household}")
        agreement_create(
            account_number=account,
            meter_point_identifier=household,
            tariff_code=dtou_code if household in tou else flat_code,
            valid_from=valid_from,
        )
    return DemoAgreements(
        households=len(households),
        dtou=len(tou & set(households)),
        flat=len(set(households) - tou),
        demo_household=demo_household,
    )


def demo_bill_run(*, period_start: date, period_end: date, idempotency_key: str, now: datetime) -> BillRun:
    """Bill every account for `[period_start, period_end)` and issue the run's drafts.

    The run is executed here rather than by the queued task; resuming a finished run does nothing, so a
    second demo run bills nothing again."""
    run = bill_run_start(
        period_start=period_start, period_end=period_end, idempotency_key=idempotency_key, now=now
    )
    run = bill_run_execute(bill_run_id=run.pk, now=now)
    for invoice in invoice_list(status="DRAFT").filter(bill_run=run):
        invoice_issue(number=draft_reference(invoice), now=now)
    return run
