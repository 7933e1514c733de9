"""Price and publish a local day of a dynamic tariff (idempotent: identical content is not republished)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pricing.services.dynamic import dynamic_prices_publish


class Command(BaseCommand):
    help = "Publish the dynamic prices of one tariff for one local day, with its ledger entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tariff", required=True, help="Tariff code.")
        parser.add_argument("--day", required=True, type=date.fromisoformat, help="Local day, YYYY-MM-DD.")

    def handle(self, *args, tariff: str, day: date, **options) -> None:
        try:
            outcome = dynamic_prices_publish(tariff_code=tariff, day=day, now=timezone.now())
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        publication = outcome.publication
        verb = "published" if outcome.created else "unchanged, already published"
        self.stdout.write(
            f"{tariff} {day} revision {publication.revision}: {verb} "
            f"(ledger entry {outcome.ledger_entry.sequence}, content {publication.content_sha256[:12]})"
        )
