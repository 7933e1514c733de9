"""Set up and serve the demo utility: `python manage.py demo [--no-serve]`."""

import secrets
import time
from datetime import UTC, date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model

from billing.selectors.invoices import draft_reference, invoice_list
from billing.services import customer_create, customer_portal_login_set
from billing.services.agreements import agreement_create
from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.invoices import invoice_issue
from config.services import api_client_create
from metering.models import Meter, MeterPoint, Source
from metering.services import readings_ingest
from metering.services.aggregates import aggregates_refresh
from metering.services.readings import readings_import_file
from metering.services.simulation import simulated_days, simulated_fleet_ensure
from metering.services.vee import vee_run
from pricing.services.tariffs import tariff_create, tariff_version_publish

DEMO_CLIENT = "demo-billing-system"
DATA = settings.BASE_DIR / "data"
FLAT_TARIFF = "LCL-FLAT-2013"
HOST = "127.0.0.1:8000"


class Command(BaseCommand):
    help = "Migrate, load the demo utility, run the pipeline and serve GraphQL, admin and portal."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Run everything, then exit.")
        parser.add_argument("--addrport", default=HOST, help=f"Where to serve (default {HOST}).")

    def handle(self, *args, no_serve: bool, addrport: str, **options):
        started = time.perf_counter()
        self._step("Migrating the database", lambda: call_command("migrate", interactive=False, verbosity=0))
        staff_password = secrets.token_urlsafe(9)
        customer_password = secrets.token_urlsafe(9)
        client_id, client_secret = self._step(
            "Loading the demo utility", lambda: self._load(staff_password, customer_password)
        )
        for name, step in self._pipeline():
            self._step(name, step)
        elapsed = time.perf_counter() - started
        db = settings.DATABASES["default"]
        self.stdout.write(
            self.style.SUCCESS(f"\nDemo ready in {elapsed:.1f} s on {db['ENGINE'].rsplit('.', 1)[-1]}.")
        )
        base = f"http://{addrport}"
        self.stdout.write(
            f"""
  Admin (staff)     {base}/admin/      user: staff     password: {staff_password}
  Portal (customer) {base}/            user: customer  password: {customer_password}
  GraphiQL          {base}/graphql/    (sign in to admin first)
  Health, metrics   {base}/healthz     {base}/metrics

  API client (all scopes): client_id={client_id} client_secret={client_secret}
    TOKEN=$(curl -s -u '{client_id}:{client_secret}' -d grant_type=client_credentials \\
            {base}/o/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
         -d '{{"query": "{{ customer(accountNumber: \\"DEMO-0001\\") {{ accountNumber name email }} }}"}}' {base}/graphql/
"""
        )
        if not no_serve:
            call_command("runserver", addrport, use_reloader=False)

    def _step(self, name: str, action):
        self.stdout.write(f"- {name} ...", ending="")
        self.stdout.flush()
        started = time.perf_counter()
        result = action()
        self.stdout.write(f" done ({time.perf_counter() - started:.1f} s)")
        return result

    @transaction.atomic
    def _load(self, staff_password: str, customer_password: str) -> tuple[str, str]:
        User = get_user_model()
        staff, _ = User.objects.get_or_create(username="staff", defaults={"email": "staff@example.org"})
        staff.is_staff = staff.is_superuser = True
        staff.set_password(staff_password)
        staff.save()
        customer = customer_create(
            account_number="DEMO-0001", name="Demo Customer", email="customer@example.org"
        )
        customer_portal_login_set(customer=customer, username="customer", password=customer_password)
        # A fresh secret each run: the old one is hashed and cannot be shown again.
        Application = get_application_model()
        old = Application.objects.filter(name=DEMO_CLIENT).first()
        if old is not None:
            service_account = old.user
            old.delete()
            if service_account is not None:
                service_account.delete()
        client, secret = api_client_create(name=DEMO_CLIENT, scopes=list(settings.API_SCOPES))
        return client.application.client_id, secret

    def _pipeline(self):
        """The demo pipeline; each capability adds its steps (ingest, forecast, price, bill)."""
        return [
            ("Importing 20 real London households (Jan-Feb 2013)", self._import_households),
            ("Simulating 100 smart meters for the same weeks", self._simulate_meters),
            ("Checking the readings (VEE) and estimating gaps", self._vee),
            ("Refreshing feeder and region load aggregates", self._aggregates),
            ("Publishing the trial's flat tariff and agreements", self._tariffs_and_agreements),
            ("Billing January 2013 and issuing the invoices", self._bill_january),
        ]

    def _vee(self) -> None:
        households = Meter.objects.filter(meter_point__feeder_code="LDN-F01").values_list("id", flat=True)
        report = vee_run(
            period_start=datetime(2013, 1, 1, tzinfo=UTC),
            period_end=datetime(2013, 3, 1, tzinfo=UTC),
            as_of=datetime(2013, 3, 1, tzinfo=UTC),
            meter_ids=list(households),
        )
        self.stdout.write(
            f" {report.gaps_found} gaps, {report.intervals_estimated} intervals estimated,"
            f" {report.spikes} spikes, {report.stuck_runs} stuck runs;",
            ending="",
        )

    def _aggregates(self) -> None:
        rows = aggregates_refresh(now=timezone.now())
        self.stdout.write(f" {rows:,} aggregate rows;", ending="")

    def _tariffs_and_agreements(self) -> None:
        """The Low Carbon London trial's real flat rate (14.228 p/kWh) for the 20 sampled households."""
        tariff_create(code=FLAT_TARIFF, name="Low Carbon London flat rate 2013")
        tariff_version_publish(
            tariff_code=FLAT_TARIFF,
            valid_from=datetime(2013, 1, 1, tzinfo=UTC),
            valid_to=None,
            document={
                "format": "tariff/v1",
                "currency": "GBP",
                "timezone": "Europe/London",
                "standing_charge_per_day": "0.1500",
                "energy": {"kind": "flat", "rate_per_kwh": "0.14228"},
                "tax": {"name": "VAT", "rate": "0.05"},
            },
        )
        households = sorted(
            MeterPoint.objects.filter(feeder_code="LDN-F01").values_list("identifier", flat=True)
        )
        for index, household in enumerate(households):
            # The demo customer (portal login "customer") is the first household.
            account = "DEMO-0001" if index == 0 else f"LCL-{household}"
            if index:
                customer_create(account_number=account, name=f"Household {household}")
            agreement_create(
                account_number=account,
                meter_point_identifier=household,
                tariff_code=FLAT_TARIFF,
                valid_from=datetime(2013, 1, 1, tzinfo=UTC),
            )

    def _bill_january(self) -> None:
        now = timezone.now()
        run = bill_run_start(
            period_start=date(2013, 1, 1),
            period_end=date(2013, 2, 1),
            idempotency_key="demo-2013-01",
            now=now,
        )
        # Run it here rather than wait for the queued task: resuming a finished run does nothing.
        run = bill_run_execute(bill_run_id=run.pk, now=now)
        for invoice in invoice_list(status="DRAFT").filter(bill_run=run):
            invoice_issue(number=draft_reference(invoice), now=now)
        self.stdout.write(
            f" run {run.status}: {run.invoice_count} invoices, {run.held_count} held;", ending=""
        )

    def _import_households(self) -> None:
        outcome = readings_import_file(
            path=DATA / "households" / "lcl_2013_sample_wide.csv",
            now=timezone.now(),
            assume_tz="UTC",
            create_meters_in_zone="Europe/London",
            installed_at=datetime(2012, 1, 1, tzinfo=UTC),
            feeder_code="LDN-F01",
            region_code="LDN",
        )
        self.stdout.write(
            f" {outcome.result.accepted:,} readings new, {outcome.result.duplicates:,} already there,"
            f" {outcome.result.rejected_count} rejected;",
            ending="",
        )

    def _simulate_meters(self) -> None:
        fleet = simulated_fleet_ensure(count=100, prefix="DEMO-SIM", feeders=4, regions=1)
        for readings in simulated_days(fleet=fleet, start=datetime(2013, 1, 1, tzinfo=UTC), days=14):
            readings_ingest(readings=readings, source=Source.SIMULATOR, now=timezone.now())
