"""Day-ahead schedules for a battery fleet from CSV files (contract in CLI.md)."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from grid.optimize.storage import ScheduleInfeasible
from grid.optimize.storage_files import StorageFileError, storage_optimize_files


class Command(BaseCommand):
    help = (
        "Schedule a battery fleet for a day: charge, discharge and state of charge per unit and interval, "
        "minimising import cost - export revenue + degradation within the feeders' limits."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fleet", required=True, type=Path, help="FLEET.csv (one row per battery).")
        parser.add_argument("--prices", required=True, type=Path, help="PRICES.csv (UTC, equal steps).")
        parser.add_argument("--pv", type=Path, help="PV.csv: unit,interval_start,kw.")
        parser.add_argument("--load", type=Path, help="LOAD.csv: unit,interval_start,kw.")
        parser.add_argument(
            "--feeder-limits", type=Path, help="LIMITS.csv: feeder,import_limit_kw,export_limit_kw."
        )
        parser.add_argument("--out", required=True, type=Path, help="SCHEDULE.csv to write.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")
        parser.add_argument("--workers", type=int, help="Worker processes (default: the machine's cores).")

    def handle(self, *args, **options) -> None:
        def say(message: str) -> None:
            self.stderr.write(f"storage_optimize: {message}")

        bar = tqdm(desc="units", unit=" units", file=sys.stderr, disable=None)
        try:
            summary = storage_optimize_files(
                fleet_path=options["fleet"],
                prices_path=options["prices"],
                pv_path=options["pv"],
                load_path=options["load"],
                limits_path=options["feeder_limits"],
                out_path=options["out"],
                workers=options["workers"],
                say=say,
                progress=bar.update,
            )
        except (StorageFileError, ScheduleInfeasible) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        pct = summary["renewable_self_consumption_pct"]
        self.stdout.write(
            f"{summary['units']:,} units x {summary['intervals']} intervals: {summary['status']}, "
            f"net cost {summary['objective']:.2f} in {summary['seconds']:.1f} s; "
            f"PV self-consumption {pct['without_storage']} % without storage, {pct['with_storage']} % with"
        )
