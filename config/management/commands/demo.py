"""Set up and serve the demo utility: `python manage.py demo [--no-serve]`."""

import time
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.services.demo import (
    DEMO_ACCOUNT,
    DemoLogins,
    demo_agreements_create,
    demo_bill_run,
    demo_logins_ensure,
)
from grid.services.demo import storage_demo
from metering.services.aggregates import aggregates_refresh
from metering.services.demo import demo_feeder_vee_run, demo_fleet_simulate
from metering.services.readings import readings_import_file
from pricing.services.demo import demo_example_tariffs_publish, demo_trial_tariffs_publish

DATA = settings.BASE_DIR / "data"
FLAT_TARIFF = "LCL-FLAT-2013"
DTOU_TARIFF = "LCL-DTOU-2013"
LONDON_FEEDER = "LDN-F01"
HOUSEHOLDS = DATA / "households" / "lcl_2013_300_households_january_wide.csv"
HOUSEHOLD_INFO = DATA / "households" / "lcl_household_info_300.csv"
DTOU_SCHEDULE = DATA / "households" / "lcl_dtou_tariff_schedule_2013.csv"
US_PRICES = DATA / "prices" / "us_day_ahead_hourly_2021-02-10_2021-02-24_wide.csv"
JANUARY = (datetime(2013, 1, 1, tzinfo=UTC), datetime(2013, 2, 1, tzinfo=UTC))
HOST = "127.0.0.1:8000"


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
        elif logins.all_new:
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
                        feeder_code=LONDON_FEEDER,
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

        outcome = demo_forecast_london_feeders(feeder_codes=[LONDON_FEEDER])
        self.stdout.write(f" {', '.join(f'{s}: {m}' for s, m in outcome.champions.items())};", ending="")

    def _grid(self) -> None:
        from grid.services.demo import grid_demo
        from metering.selectors.readings import feeder_code_list

        self.stdout.write(
            " " + grid_demo(now=timezone.now(), feeder_codes=feeder_code_list()) + ";", ending=""
        )

    def _vee(self) -> None:
        report = demo_feeder_vee_run(
            feeder_code=LONDON_FEEDER, period_start=JANUARY[0], period_end=JANUARY[1]
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
        days, created = demo_trial_tariffs_publish(
            flat_code=FLAT_TARIFF,
            dtou_code=DTOU_TARIFF,
            dtou_schedule=DTOU_SCHEDULE,
            period_start=JANUARY[0],
            period_end=JANUARY[1],
            now=timezone.now(),
        )
        self.stdout.write(f" {days} days of dToU rates ({created} new publications);", ending="")

    def _other_tariffs(self) -> None:
        demo_example_tariffs_publish(valid_from=JANUARY[0], ercot_prices=US_PRICES, now=timezone.now())

    def _agreements(self) -> None:
        made = demo_agreements_create(
            feeder_code=LONDON_FEEDER,
            household_info=HOUSEHOLD_INFO,
            flat_code=FLAT_TARIFF,
            dtou_code=DTOU_TARIFF,
            valid_from=JANUARY[0],
        )
        self.stdout.write(
            f" {made.households} households: {made.dtou} dToU, {made.flat} flat;"
            f" {DEMO_ACCOUNT} is {made.demo_household};",
            ending="",
        )

    def _bill_january(self) -> None:
        run = demo_bill_run(
            period_start=date(2013, 1, 1),
            period_end=date(2013, 2, 1),
            idempotency_key="demo-2013-01",
            now=timezone.now(),
        )
        self.stdout.write(
            f" run {run.status}: {run.invoice_count} invoices, {run.held_count} held;", ending=""
        )

    def _compare_tariffs(self) -> None:
        from billing.services.comparison import tariff_comparison_demo

        run = tariff_comparison_demo(
            flat_code=FLAT_TARIFF,
            dtou_code=DTOU_TARIFF,
            dtou_schedule_path=DTOU_SCHEDULE,
            feeder_code=LONDON_FEEDER,
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
            feeder_code=LONDON_FEEDER,
            region_code="LDN",
        )
        self.stdout.write(
            f" {outcome.result.accepted:,} readings new, {outcome.result.duplicates:,} already there,"
            f" {outcome.result.rejected_count} rejected;",
            ending="",
        )

    def _simulate_meters(self) -> None:
        demo_fleet_simulate(count=100, start=datetime(2013, 1, 1, tzinfo=UTC), days=14, now=timezone.now())
