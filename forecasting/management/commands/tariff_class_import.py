from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasting.services.tariff_classes import TariffClassFileError, tariff_class_values_import


class Command(BaseCommand):
    help = (
        "Import tariff-class load from a long CSV (interval_start,tariff_class,kwh) into one "
        "tariff_class:<CLASS> series per class, so they are forecast. Idempotent; a bad cell refuses "
        "the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--time-column", default="interval_start")
        parser.add_argument("--class-column", default="tariff_class")
        parser.add_argument("--value-column", default="kwh")
        parser.add_argument(
            "--timezone", default="UTC", help="IANA zone of naive timestamps and of the calendar"
        )
        parser.add_argument("--holidays", default="", help="country[-subdivision], e.g. GB-ENG")
        parser.add_argument("--weather-location", default=None, help="code of the weather location to use")

    def handle(self, *args, file: Path, **options):
        try:
            outcome = tariff_class_values_import(
                path=file,
                time_column=options["time_column"],
                class_column=options["class_column"],
                value_column=options["value_column"],
                zone=options["timezone"],
                holidays=options["holidays"],
                weather_location_code=options["weather_location"],
            )
        except TariffClassFileError as error:
            raise CommandError("; ".join(error.messages)) from error
        for item in outcome.series:
            new = " (new series)" if item.series_code in outcome.created else ""
            self.stdout.write(
                f"{item.series_code}{new}: {item.rows:,} values, {item.missing_steps:,} missing in "
                f"{item.gaps} gap(s)"
            )
