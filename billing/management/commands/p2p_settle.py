"""`manage.py p2p_settle --feeder CODE --from DATE --to DATE [--fee 0.02] [--write]`: the feeder community's
bills with and without peer-to-peer trading; `--write` writes the DRAFT invoices with settlement lines.

`--battery-kwh 5 --battery-kw 3 [--battery-efficiency 0.9] [--battery-accounts A,B]` (without `--write`): the
same with members' batteries dispatched for the community (those whose meter point has a battery, or the
listed accounts); invoices are only ever written from the measured flows."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.services.p2p import BatterySpec, p2p_community_compute, p2p_invoices_create
from core.errors import DomainError


class Command(BaseCommand):
    help = "Settle a feeder community's peer-to-peer trades and compare its bills with and without them."

    def add_arguments(self, parser):
        parser.add_argument("--feeder", required=True)
        parser.add_argument("--from", dest="period_start", required=True, help="first local date, YYYY-MM-DD")
        parser.add_argument("--to", dest="period_end", required=True, help="local date after the last one")
        parser.add_argument("--fee", default="0.00", help="network fee per kWh traded (default 0.00)")
        parser.add_argument("--write", action="store_true", help="write the DRAFT invoices")
        parser.add_argument("--battery-kwh", help="scenario: usable battery capacity per member (kWh)")
        parser.add_argument("--battery-kw", help="scenario: battery power per member (kW)")
        parser.add_argument("--battery-efficiency", default="0.90", help="round-trip efficiency (0.90)")
        parser.add_argument(
            "--battery-accounts",
            help="comma-separated account numbers (default: meter points with a battery)",
        )

    def handle(self, *args, feeder, period_start, period_end, fee, write, **options):
        try:
            start, end = date.fromisoformat(period_start), date.fromisoformat(period_end)
            fee_per_kwh = Decimal(fee)
            battery = (
                BatterySpec(
                    capacity_kwh=Decimal(options["battery_kwh"]),
                    power_kw=Decimal(options["battery_kw"] or "0"),
                    efficiency=Decimal(options["battery_efficiency"]),
                )
                if options["battery_kwh"]
                else None
            )
        except (ValueError, InvalidOperation) as exc:
            raise CommandError(f"--from/--to are YYYY-MM-DD, --fee and --battery-* decimals: {exc}") from exc
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        kwargs = {"feeder_code": feeder, "period_start": start, "period_end": end, "fee_per_kwh": fee_per_kwh}
        if battery is not None:
            if write:
                raise CommandError("Batteries are a scenario: invoices are written from measured flows only.")
            accounts = options["battery_accounts"]
            result = p2p_community_compute(
                **kwargs,
                battery=battery,
                battery_accounts=[a.strip() for a in accounts.split(",") if a.strip()] if accounts else None,
            )
        elif write:
            outcome = p2p_invoices_create(**kwargs, now=timezone.now())
            result = outcome.result
            self.stderr.write(f"{len(outcome.invoiced)} invoices written, {len(outcome.skipped)} skipped")
        else:
            result = p2p_community_compute(**kwargs)
        self.stdout.write("account_number,total_without_p2p,total_with_p2p")
        for number in sorted(result.with_p2p):
            self.stdout.write(f"{number},{result.without[number].total},{result.with_p2p[number].total}")
        self.stderr.write(
            f"traded {result.traded_kwh} kWh of {result.imported_kwh} kWh imported"
            f" (self-sufficiency {result.self_sufficiency_with or 0:.4f}); purchases {result.purchases},"
            f" sales {result.sales}, fees {result.fees}; Gini of bills {result.summary_without.bills_gini}"
            f" → {result.summary_with.bills_gini}; held {len(result.held)}"
        )
        self.stderr.write(
            f"consumption {result.consumption_kwh} kWh (own PV {result.pv_self_consumed_kwh} kWh): "
            f"self-sufficiency {result.consumption_self_sufficiency_without or 0:.4f} without P2P, "
            f"{result.consumption_self_sufficiency_with or 0:.4f} with"
        )
        if result.battery_accounts:
            r = result
            self.stderr.write(
                f"batteries of {len(r.battery_accounts)} members: charged {r.battery_charged_own_kwh} kWh"
                f" own + {r.battery_charged_community_kwh} kWh community surplus, delivered"
                f" {r.battery_discharged_own_kwh} kWh own + {r.battery_discharged_community_kwh} kWh"
                f" to neighbours, lost {r.battery_losses_kwh} kWh"
            )
