"""Verify the price ledger: exit 0 when intact, non-zero with the first broken entry printed."""

from django.core.management.base import BaseCommand, CommandError

from pricing.selectors.ledger import ledger_verify


class Command(BaseCommand):
    help = "Recompute every publication's hash, walk the ledger chain and report the first broken entry."

    def handle(self, *args, **options) -> None:
        report = ledger_verify()
        if not report.ok:
            broken = report.first_broken
            raise CommandError(
                f"ledger broken at entry {broken.sequence}: {broken.reason} "
                f"({report.entries_checked} entries checked)"
            )
        self.stdout.write(self.style.SUCCESS(f"ledger intact: {report.entries_checked} entries verified"))
