import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasting.services.weather import WeatherFileError, weather_import_file


class Command(BaseCommand):
    help = (
        "Import hourly weather observations from an Open-Meteo CSV (long form: timestamp_utc,region,latitude,"
        "longitude,temperature_2m_c,...). One location per region; idempotent; a bad row refuses the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            outcome = weather_import_file(path=file, progress=lambda m: print(m, file=sys.stderr, flush=True))
        except WeatherFileError as error:
            raise CommandError("; ".join(error.messages)) from error
        created = (
            f", created locations {', '.join(outcome.locations_created)}" if outcome.locations_created else ""
        )
        self.stdout.write(
            f"{file.name}: {outcome.rows:,} hours, {outcome.created:,} new or changed, "
            f"{outcome.unchanged:,} unchanged{created}"
        )
