"""`manage.py tariff_compare --tariffs A,B --from DATE --to DATE [cohort] [scenarios] [--csv F] [--xlsx F]`:
every account of the cohort billed under each tariff by the billing engine (nothing written); prints the
summary table as CSV on stdout (progress on stderr) and optionally writes the full CSV / XLSX exports."""

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.services.comparison import (
    Cohort,
    Scenario,
    UnableToCompareTariffs,
    comparison_csv,
    comparison_xlsx,
    tariff_comparison_compute_scenarios,
)


class Command(BaseCommand):
    help = "Compare tariffs over a cohort's real readings (bills, winners and losers, fairness, scenarios)."

    def add_arguments(self, parser):
        parser.add_argument("--tariffs", required=True, help="comma-separated import tariff codes")
        parser.add_argument("--from", dest="period_start", required=True, help="first local date, YYYY-MM-DD")
        parser.add_argument("--to", dest="period_end", required=True, help="local date after the last one")
        parser.add_argument("--feeder")
        parser.add_argument("--tariff-class", help="only accounts whose current import tariff has this code")
        parser.add_argument("--accounts", help="comma-separated account numbers")
        parser.add_argument(
            "--price-factor", action="append", default=[], help="add a price-level scenario (e.g. 1.10)"
        )
        parser.add_argument("--pv-share", action="append", default=[], help="add a PV-penetration scenario")
        parser.add_argument("--export-tariff", help="credits the PV scenarios' exports")
        parser.add_argument(
            "--consumer-response",
            action="store_true",
            help="add a scenario with the balancing model's consumer response",
        )
        parser.add_argument("--csv", type=Path)
        parser.add_argument("--xlsx", type=Path)

    def handle(self, *args, **options):
        try:
            start, end = (
                date.fromisoformat(options["period_start"]),
                date.fromisoformat(options["period_end"]),
            )
            scenarios = [Scenario()]
            scenarios += [
                Scenario(name=f"prices x{f}", price_factor=Decimal(f)) for f in options["price_factor"]
            ]
            scenarios += [
                Scenario(
                    name=f"PV {float(s):.0%}", pv_share=float(s), export_tariff_code=options["export_tariff"]
                )
                for s in options["pv_share"]
            ]
            if options["consumer_response"]:
                scenarios.append(Scenario(name="consumer response", consumer_response=True))
        except (ValueError, InvalidOperation) as exc:
            raise CommandError(
                f"--from/--to are YYYY-MM-DD, --price-factor and --pv-share numbers: {exc}"
            ) from exc
        cohort = Cohort(
            feeder_code=options["feeder"],
            tariff_code=options["tariff_class"],
            account_numbers=tuple(a.strip() for a in options["accounts"].split(","))
            if options["accounts"]
            else None,
        )
        try:
            results = tariff_comparison_compute_scenarios(
                tariff_codes=options["tariffs"].split(","),
                period_start=start,
                period_end=end,
                cohort=cohort,
                scenarios=scenarios,
                progress=lambda done, total: self.stderr.write(f"{done}/{total} accounts"),
            )
        except UnableToCompareTariffs as exc:
            raise CommandError(f"{exc.messages[0]} ({exc.field})") from exc
        exported = [r.as_json() for r in results]
        self.stdout.write(comparison_csv(exported).split("\n\n")[0])
        if options["csv"]:
            options["csv"].write_text(comparison_csv(exported), encoding="utf-8")
        if options["xlsx"]:
            options["xlsx"].write_bytes(comparison_xlsx(exported))
