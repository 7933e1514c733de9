"""Import OpenEI Utility Rate Database (URDB) rates as tariffs with one published version each.

    manage.py tariff_import_urdb rates.json [--code CODE] [--valid-from 2024-01-01] [--timezone ZONE]
                                            [--dry-run] [--strict]

What tariff/v1 cannot express (TOU × tiers, time-of-use or coincident demand, sell rates, minimum charges…)
is printed as warnings and left out; with --strict such an item is not imported at all.
"""

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone as django_timezone

from core.errors import DomainError
from pricing.documents import InvalidTariffDocument, parse_tariff_document
from pricing.services.tariffs import tariff_create, tariff_version_publish
from pricing.urdb import UrdbError, urdb_items, urdb_to_document


class Command(BaseCommand):
    help = "Import OpenEI URDB rate JSON (one item or {'items': [...]}) as tariff/v1 tariffs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--code", help="Tariff code (one item only); default URDB-<label>.")
        parser.add_argument(
            "--valid-from", type=date.fromisoformat, help="Local date; default the item's startdate."
        )
        parser.add_argument(
            "--timezone", help="IANA zone when the item names no US state (or to override it)."
        )
        parser.add_argument("--direction", default="IMPORT", choices=["IMPORT", "EXPORT"])
        parser.add_argument("--dry-run", action="store_true", help="Print the documents, store nothing.")
        parser.add_argument("--strict", action="store_true", help="Refuse items with unsupported parts.")

    def handle(self, *args, **options) -> None:
        try:
            items = urdb_items(json.loads(options["file"].read_text()))
        except (OSError, json.JSONDecodeError, UrdbError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from exc
        if options["code"] and len(items) > 1:
            raise CommandError("--code names one tariff; the file holds several items")
        failures = 0
        for index, item in enumerate(items):
            try:
                self._import(index, item, options)
            except CommandError as exc:
                failures += 1
                self.stderr.write(f"item {index}: {exc}")
        if failures:
            raise CommandError(f"{failures} of {len(items)} item(s) not imported")

    def _import(self, index: int, item: dict, options: dict) -> None:
        try:
            result = urdb_to_document(item, timezone=options["timezone"])
            parse_tariff_document(result.document)
        except UrdbError as exc:
            raise CommandError(str(exc)) from exc
        except InvalidTariffDocument as exc:
            raise CommandError(f"the mapped document is invalid: {exc}") from exc
        code = options["code"] or f"URDB-{result.label or index}"[:40]
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"{code}: warning: {warning}"))
        if options["strict"] and result.warnings:
            raise CommandError(f"{code}: {len(result.warnings)} unsupported part(s) and --strict")
        valid_from, valid_to = self._period(result, options, ZoneInfo(result.document["timezone"]))
        if options["dry_run"]:
            self.stdout.write(json.dumps({"code": code, "valid_from": valid_from.isoformat(),
                                          "valid_to": valid_to and valid_to.isoformat(),
                                          "document": result.document}, indent=2))  # fmt: skip
            return
        try:
            tariff_create(code=code, name=result.name[:200], direction=options["direction"])
            version = tariff_version_publish(
                tariff_code=code,
                valid_from=valid_from,
                valid_to=valid_to,
                document=result.document,
                now=django_timezone.now(),
            )
        except DomainError as exc:
            raise CommandError(f"{code}: {'; '.join(exc.messages)}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{code}: published {version.kind} version from {version.valid_from.isoformat()}"
                f" ({len(result.warnings)} warning(s))"
            )
        )

    @staticmethod
    def _period(result, options: dict, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
        if options["valid_from"]:
            return datetime.combine(options["valid_from"], time(), zone), None
        if not result.start_epoch:
            raise CommandError("the item has no startdate; give --valid-from")
        # URDB dates are epoch seconds of the local start date; start at that date's local midnight.
        start_day = datetime.fromtimestamp(result.start_epoch, UTC).astimezone(zone).date()
        valid_from = datetime.combine(start_day, time(), zone)
        valid_to = None
        if result.end_epoch:
            end_day = datetime.fromtimestamp(result.end_epoch, UTC).astimezone(zone).date()
            valid_to = datetime.combine(end_day, time(), zone)
            if valid_to <= valid_from:
                valid_to = None
        return valid_from, valid_to
