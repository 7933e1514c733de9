"""`manage.py p2p_settle --feeder CODE --from DATE --to DATE [--fee 0.02] [--write]`: the feeder community's
bills with and without peer-to-peer trading; `--write` writes the DRAFT invoices with settlement lines."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.services.p2p import p2p_community_compute, p2p_invoices_create


class Command(BaseCommand):
    help = "Settle a feeder community's peer-to-peer trades and compare its bills with and without them."

    def add_arguments(self, parser):
        parser.add_argument("--feeder", required=True)
        parser.add_argument("--from", dest="period_start", required=True, help="first local date, YYYY-MM-DD")
        parser.add_argument("--to", dest="period_end", required=True, help="local date after the last one")
        parser.add_argument("--fee", default="0.00", help="network fee per kWh traded (default 0.00)")
        parser.add_argument("--write", action="store_true", help="write the DRAFT invoices")

    def handle(self, *args, feeder, period_start, period_end, fee, write, **options):
        try:
            start, end = date.fromisoformat(period_start), date.fromisoformat(period_end)
            fee_per_kwh = Decimal(fee)
        except (ValueError, InvalidOperation) as exc:
            raise CommandError(f"--from/--to are YYYY-MM-DD and --fee a decimal: {exc}") from exc
        kwargs = {"feeder_code": feeder, "period_start": start, "period_end": end, "fee_per_kwh": fee_per_kwh}
        if write:
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
