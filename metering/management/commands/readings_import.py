import time
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from metering.files import UnreadableFile
from metering.services.readings import readings_import_file


class Command(BaseCommand):
    help = (
        "Import interval readings from a CSV file: long (meter_serial,interval_start,interval_end,kwh) or "
        "wide (timestamp,<serial>,<serial>,...). Idempotent: importing a file twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["auto", "long", "wide"], default="auto")
        parser.add_argument("--assume-tz", help="Zone of timestamps written without an offset, e.g. UTC.")
        parser.add_argument("--create-meters", metavar="ZONE", help="Create missing meters in this zone.")
        parser.add_argument(
            "--installed-at", help="Install date of created meters (ISO date, default 2000-01-01)."
        )
        parser.add_argument("--feeder", default="", help="Feeder code of created meter points.")
        parser.add_argument("--region", default="", help="Region code of created meter points.")
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="Write nothing if any row is rejected."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        installed_at = None
        if options["installed_at"]:
            installed_at = datetime.fromisoformat(options["installed_at"]).replace(tzinfo=UTC)
        bar = tqdm(desc=f"reading {file.name}", unit=" rows", disable=options["no_progress"], unit_scale=True)
        started = time.perf_counter()
        try:
            outcome = readings_import_file(
                path=file,
                now=timezone.now(),
                file_format=options["format"],
                assume_tz=options["assume_tz"],
                create_meters_in_zone=options["create_meters"],
                installed_at=installed_at,
                feeder_code=options["feeder"],
                region_code=options["region"],
                all_or_nothing=options["all_or_nothing"],
                progress=bar.update,
            )
        except UnreadableFile as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        result = outcome.result
        self.stdout.write(
            f"{file.name}: {outcome.rows:,} readings in {elapsed:.1f} s "
            f"({outcome.rows / max(elapsed, 1e-9):,.0f}/s): "
            f"{result.accepted:,} accepted ({result.revised:,} revisions), {result.duplicates:,} duplicates, "
            f"{result.rejected_count:,} rejected"
        )
        if outcome.meters_created:
            self.stdout.write(f"created {outcome.meters_created:,} meters")
        if outcome.unknown_serials:
            shown = ", ".join(outcome.unknown_serials[:10])
            self.stdout.write(
                self.style.WARNING(f"unknown serials ({len(outcome.unknown_serials)}): {shown}")
            )
        for code, count in sorted(result.rejected_by_code.items()):
            self.stdout.write(self.style.WARNING(f"  rejected {code}: {count:,}"))
        for reject in result.rejected[:20]:
            self.stdout.write(
                f"  line {reject['index']}: {reject['code']} ({reject['field']}): {reject['message']}"
            )
        if options["all_or_nothing"] and result.rejected_count:
            raise CommandError("Rejected rows found; nothing was written (--all-or-nothing).")
