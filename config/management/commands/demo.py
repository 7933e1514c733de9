"""Set up and serve the demo utility: `python manage.py demo [--no-serve]`."""

import csv
import json
import os
import secrets
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model

from billing.selectors.invoices import draft_reference, invoice_list
from billing.services.agreements import agreement_create
from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.customers import customer_create, customer_portal_login_set
from billing.services.invoices import invoice_issue
from core.services import api_client_create
from grid.services.demo import storage_demo
from metering.models import Meter, MeterPoint, Source
from metering.services.aggregates import aggregates_refresh
from metering.services.readings import readings_import_file, readings_ingest
from metering.services.simulation import simulated_days, simulated_fleet_ensure
from metering.services.vee import vee_run
from pricing.services.dynamic import AnnouncedRate, announced_rates_publish
from pricing.services.market_feeds import market_prices_import_file
from pricing.services.tariffs import tariff_create, tariff_version_publish

DEMO_CLIENT = "demo-billing-system"
DATA = settings.BASE_DIR / "data"
FLAT_TARIFF = "LCL-FLAT-2013"
DTOU_TARIFF = "LCL-DTOU-2013"
HOUSEHOLDS = DATA / "households" / "lcl_2013_300_households_january_wide.csv"
HOUSEHOLD_INFO = DATA / "households" / "lcl_household_info_300.csv"
DTOU_SCHEDULE = DATA / "households" / "lcl_dtou_tariff_schedule_2013.csv"
US_PRICES = DATA / "prices" / "us_day_ahead_hourly_2021-02-10_2021-02-24_wide.csv"
JANUARY = (datetime(2013, 1, 1, tzinfo=UTC), datetime(2013, 2, 1, tzinfo=UTC))
HOST = "127.0.0.1:8000"


@dataclass
class DemoLogins:
    """The demo's logins: kept from run to run in DEMO_CREDENTIALS_FILE (git-ignored, mode 0600), because
    passwords and client secrets are stored hashed and cannot be shown again once printed."""

    staff_password: str
    customer_password: str
    client_id: str
    client_secret: str
    replaced: list[str] = field(default_factory=list)  # what this run had to replace, and why
    first_run: bool = False  # nothing was saved before: every login is new


def _saved_logins(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _save_logins(path: Path, logins: DemoLogins) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: v for k, v in asdict(logins).items() if k not in {"replaced", "first_run"}}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(saved, out)


def demo_logins_ensure(*, path: Path) -> DemoLogins:
    """Get or create the staff login, the customer's portal login and the API client of the demo.

    Credentials that the saved file holds and that still work are kept; a login or client that is missing,
    or whose secret is not in the file (e.g. the file was deleted), gets a new one, listed in `replaced`.
    """
    saved = _saved_logins(path)
    replaced = []
    User = get_user_model()
    staff, _ = User.objects.get_or_create(username="staff", defaults={"email": "staff@example.org"})
    staff_password = saved.get("staff_password", "")
    if not (
        staff_password and staff.check_password(staff_password) and staff.is_staff and staff.is_superuser
    ):
        if staff.password and staff.has_usable_password():
            replaced.append("staff password")
        staff_password = secrets.token_urlsafe(9)
        staff.set_password(staff_password)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    customer = customer_create(account_number="DEMO-0001", name="Demo Customer", email="customer@example.org")
    customer_password = saved.get("customer_password", "")
    login = customer.user
    if not (customer_password and login is not None and login.check_password(customer_password)):
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
        first_run=not saved and not replaced,
    )
    _save_logins(path, logins)
    return logins


class Command(BaseCommand):
    help = "Migrate, load the demo utility, run the pipeline and serve GraphQL, admin and portal."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Run everything, then exit.")
        parser.add_argument("--addrport", default=HOST, help=f"Where to serve (default {HOST}).")

    def handle(self, *args, no_serve: bool, addrport: str, **options):
        started = time.perf_counter()
        self._step("Migrating the database", lambda: call_command("migrate", interactive=False, verbosity=0))
        logins = self._step("Loading the demo utility", self._load)
        staff_password, customer_password = logins.staff_password, logins.customer_password
        client_id, client_secret = logins.client_id, logins.client_secret
        for name, step in self._pipeline():
            self._step(name, step)
        elapsed = time.perf_counter() - started
        db = settings.DATABASES["default"]
        self.stdout.write(
            self.style.SUCCESS(f"\nDemo ready in {elapsed:.1f} s on {db['ENGINE'].rsplit('.', 1)[-1]}.")
        )
        base = f"http://{addrport}"
        path = settings.DEMO_CREDENTIALS_FILE
        if logins.replaced:
            self.stdout.write(
                self.style.WARNING(
                    f"\n  Replaced: {', '.join(logins.replaced)}: the earlier ones are stored hashed and "
                    f"were not in {path}. The logins below are new."
                )
            )
        elif logins.first_run:
            self.stdout.write(f"\n  New logins, kept in {path}: the next runs print the same ones.")
        else:
            self.stdout.write(f"\n  The logins below are the same as on earlier runs (kept in {path}).")
        self.stdout.write(
            f"""
  Admin (staff)     {base}/admin/      user: staff     password: {staff_password}
  Portal (customer) {base}/            user: customer  password: {customer_password}
  GraphiQL          {base}/graphql/    (sign in to admin first), then try:
    {{ invoices(first: 3, accountNumber: "DEMO-0001") {{ edges {{ node {{ number periodStart status totalAmount
      lines {{ kind band description quantity unitPrice amount }} taxes {{ name rate baseAmount amount }} }} }} }} }}
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
    def _load(self) -> DemoLogins:
        return demo_logins_ensure(path=Path(settings.DEMO_CREDENTIALS_FILE))

    def _pipeline(self):
        """The demo pipeline; each capability adds its steps (ingest, forecast, price, bill)."""
        return [
            ("Importing 300 real London households (January 2013)", self._import_households),
            ("Simulating 100 smart meters for two weeks", self._simulate_meters),
            ("Checking the readings (VEE) and estimating gaps", self._vee),
            ("Refreshing feeder and region load aggregates", self._aggregates),
            ("Publishing the trial's flat and dynamic ToU tariffs", self._trial_tariffs),
            ("Publishing one tariff of every other kind", self._other_tariffs),
            ("Creating a customer and agreement per household", self._agreements),
            ("Billing January 2013 and issuing the invoices", self._bill_january),
            (
                "Comparing the households' January bills on flat, dToU and indexed tariffs",
                self._compare_tariffs,
            ),
            ("Forecasting the London feeders for 1-7 February 2013", self._forecast_london),
            (
                "Giving 50 households a home battery and PV; scheduling 22 January",
                lambda: self.stdout.write(
                    storage_demo(
                        tariff_code=DTOU_TARIFF,
                        feeder_code="LDN-F01",
                        day=datetime(2013, 1, 22, tzinfo=UTC),
                        now=timezone.now(),
                    ),
                    ending="",
                ),
            ),
            ("Grid: SimBench MV network, London feeders mapped, evening-ramp scenario", self._grid),
        ]

    def _forecast_london(self) -> None:
        from forecasting.services.demo import demo_forecast_london_feeders

        outcome = demo_forecast_london_feeders(feeder_codes=["LDN-F01"])
        self.stdout.write(f" {', '.join(f'{s}: {m}' for s, m in outcome.champions.items())};", ending="")

    def _grid(self) -> None:
        from grid.services.demo import grid_demo
        from metering.selectors.readings import feeder_code_list

        self.stdout.write(
            " " + grid_demo(now=timezone.now(), feeder_codes=feeder_code_list()) + ";", ending=""
        )

    def _vee(self) -> None:
        households = Meter.objects.filter(meter_point__feeder_code="LDN-F01").values_list("id", flat=True)
        report = vee_run(
            period_start=JANUARY[0],
            period_end=JANUARY[1],
            as_of=JANUARY[1],
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

    def _trial_tariffs(self) -> None:
        """The Low Carbon London trial's two real tariffs of 2013.

        The flat rate (14.228 p/kWh) of the standard households, and the dynamic time-of-use tariff of the
        ToU households: its rates were announced by the trial a day ahead (Low 3.99, Normal 11.76, High
        67.20 p/kWh), so they are published as announced rates, not computed by the rule engine. A dynamic
        document must name a market; "LCL-DTOU" names the trial's announcements (no such market is loaded,
        and the document has no rules: the engine has nothing to compute for it).
        """
        tariff_create(code=FLAT_TARIFF, name="Low Carbon London flat rate 2013")
        tariff_version_publish(
            tariff_code=FLAT_TARIFF,
            valid_from=JANUARY[0],
            valid_to=None,
            document=_document({"kind": "flat", "rate_per_kwh": "0.14228"}),
            now=timezone.now(),
        )
        tariff_create(code=DTOU_TARIFF, name="Low Carbon London dynamic time-of-use 2013")
        tariff_version_publish(
            tariff_code=DTOU_TARIFF,
            valid_from=JANUARY[0],
            valid_to=datetime(2014, 1, 1, tzinfo=UTC),
            document=_document({"kind": "dynamic", "market": "LCL-DTOU", "rules": []}),
            now=timezone.now(),
        )
        days = defaultdict(list)
        with DTOU_SCHEDULE.open(newline="") as rows:
            for row in csv.DictReader(rows):
                start = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC)  # GMT, as the trial
                if JANUARY[0] <= start < JANUARY[1]:
                    rate = Decimal(row["dtou_price_p_per_kwh"]) / 100
                    days[start.date()].append(
                        AnnouncedRate(start, start + timedelta(minutes=30), rate, row["dtou_band"])
                    )
        # Announced the day before, at noon (the trial announced a day ahead).
        created = 0
        for day, rates in sorted(days.items()):
            announced_at = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC) + timedelta(
                hours=12
            )
            outcome = announced_rates_publish(tariff_code=DTOU_TARIFF, day=day, rates=rates, now=announced_at)
            created += outcome.created
        self.stdout.write(f" {len(days)} days of dToU rates ({created} new publications);", ending="")

    def _other_tariffs(self) -> None:
        """Example tariffs of the remaining kinds, for staff to look at (admin, unitRates); no customers."""
        tariff_create(code="DEMO-TIERED", name="Demo tiered (example rates)")
        tariff_version_publish(
            tariff_code="DEMO-TIERED",
            valid_from=JANUARY[0],
            valid_to=None,
            document=_document(
                {
                    "kind": "tiered",
                    "tiers": [
                        {"up_to_kwh": "300", "rate_per_kwh": "0.1200"},
                        {"up_to_kwh": None, "rate_per_kwh": "0.1600"},
                    ],
                }
            ),
            now=timezone.now(),
        )
        tariff_create(code="DEMO-TOU", name="Demo time-of-use, peak 16:00-19:00 weekdays (example rates)")
        weekday = ["off_peak"] * 14 + ["day"] * 18 + ["peak"] * 6 + ["day"] * 8 + ["off_peak"] * 2
        tariff_version_publish(
            tariff_code="DEMO-TOU",
            valid_from=JANUARY[0],
            valid_to=None,
            document=_document(
                {
                    "kind": "tou",
                    "rates_per_kwh": {"off_peak": "0.0800", "day": "0.1500", "peak": "0.3000"},
                    "weekday": weekday,
                    "weekend": ["off_peak"] * 14 + ["day"] * 32 + ["off_peak"] * 2,
                    "holidays": "GB",
                }
            ),
            now=timezone.now(),
        )
        # Indexed needs market prices: the committed public ERCOT sample (winter storm Uri, February 2021).
        market_prices_import_file(
            path=US_PRICES, now=timezone.now(), market_codes=["ERCOT"], create_markets=True
        )
        tariff_create(code="DEMO-INDEXED-ERCOT", name="Demo indexed on ERCOT day-ahead (example terms)")
        tariff_version_publish(
            tariff_code="DEMO-INDEXED-ERCOT",
            valid_from=datetime(2021, 2, 10, 6, tzinfo=UTC),
            valid_to=datetime(2021, 2, 25, 6, tzinfo=UTC),
            document={
                "format": "tariff/v1",
                "currency": "USD",
                "timezone": "America/Chicago",
                "standing_charge_per_day": "0.3000",
                "energy": {
                    "kind": "indexed",
                    "market": "ERCOT",
                    "multiplier": "1.00",
                    "adder_per_kwh": "0.0400",
                    "cap_per_kwh": "1.00",
                    "floor_per_kwh": "0.00",
                },
            },
            now=timezone.now(),
        )

    def _agreements(self) -> None:
        """One customer and agreement per household: ToU households on the dToU tariff, the rest flat."""
        with HOUSEHOLD_INFO.open(newline="") as rows:
            tou = {row["LCLid"] for row in csv.DictReader(rows) if row["stdorToU"] == "ToU"}
        households = sorted(
            MeterPoint.objects.filter(feeder_code="LDN-F01").values_list("identifier", flat=True)
        )
        # The demo customer (portal login "customer") is the first ToU household: the portal shows dynamic prices.
        demo_household = min((h for h in households if h in tou), default=households[0])
        for household in households:
            account = "DEMO-0001" if household == demo_household else f"LCL-{household}"
            if household != demo_household:
                customer_create(account_number=account, name=f"Household {household}")
            agreement_create(
                account_number=account,
                meter_point_identifier=household,
                tariff_code=DTOU_TARIFF if household in tou else FLAT_TARIFF,
                valid_from=JANUARY[0],
            )
        self.stdout.write(
            f" {len(households)} households: {len(tou & set(households))} dToU, "
            f"{len(set(households) - tou)} flat; DEMO-0001 is {demo_household};",
            ending="",
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

    def _compare_tariffs(self) -> None:
        from billing.services.comparison import tariff_comparison_demo

        run = tariff_comparison_demo(
            flat_code=FLAT_TARIFF,
            dtou_code=DTOU_TARIFF,
            dtou_schedule_path=DTOU_SCHEDULE,
            feeder_code="LDN-F01",
            now=timezone.now(),
        )
        means = ", ".join(f"{s['tariff_code']} {s['mean']}" for s in run.results[0]["summaries"])
        self.stdout.write(
            f" mean bills: {means}; fairness table in admin (comparison run {run.pk});", ending=""
        )

    def _import_households(self) -> None:
        outcome = readings_import_file(
            path=HOUSEHOLDS,
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


def _document(energy: dict) -> dict:
    return {
        "format": "tariff/v1",
        "currency": "GBP",
        "timezone": "Europe/London",
        "standing_charge_per_day": "0.1500",
        "energy": energy,
        "tax": {"name": "VAT", "rate": "0.05"},
    }
