import datetime as dt
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from core.errors import DomainError
from pricing.feeds import FeedError
from pricing.services.market_feeds import market_prices_import_file
from pricing.services.markets import KNOWN_MARKETS


class Command(BaseCommand):
    help = (
        "Import hourly market prices from a wide CSV file (timestamp_utc,<column>,<column>,...), one market "
        "per column (Market.feed_config['column'] or the known default). Idempotent: importing a file twice "
        f"changes nothing. Known markets: {', '.join(KNOWN_MARKETS)}."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--markets", help="Comma-separated market codes, e.g. ERCOT,CAISO-NP15 (default: all)."
        )
        parser.add_argument(
            "--create-markets", action="store_true", help="Create missing known markets with their defaults."
        )
        parser.add_argument("--from", dest="date_from", help="First UTC date to import (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", help="Last UTC date to import, included (YYYY-MM-DD).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        codes = (
            [c.strip() for c in options["markets"].split(",") if c.strip()] if options["markets"] else None
        )
        try:
            date_from = dt.date.fromisoformat(options["date_from"]) if options["date_from"] else None
            date_to = dt.date.fromisoformat(options["date_to"]) if options["date_to"] else None
        except ValueError as exc:
            raise CommandError(f"--from/--to must be dates YYYY-MM-DD: {exc}") from exc
        bar = tqdm(
            desc=f"importing {file.name}", unit=" prices", disable=options["no_progress"], unit_scale=True
        )
        started = time.perf_counter()
        try:
            outcomes = market_prices_import_file(
                path=file.resolve(),
                now=timezone.now(),
                market_codes=codes,
                create_markets=options["create_markets"],
                date_from=date_from,
                date_to=date_to,
                progress=bar.update,
            )
        except (DomainError, FeedError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", None) or [str(exc)])) from exc
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        for outcome in outcomes:
            result = outcome.result
            self.stdout.write(
                f"{outcome.market_code} ({outcome.column}): {result.accepted:,} accepted "
                f"({result.revised:,} revisions, {result.settled_revisions:,} settled to review), "
                f"{result.duplicates:,} duplicates, {result.rejected_count:,} rejected, "
                f"{outcome.skipped:,} missing cells skipped"
            )
            for reject in result.rejected[:10]:
                line = f"  price {reject['index']}: {reject['code']} ({reject['field']}): {reject['message']}"
                self.stdout.write(self.style.WARNING(line))
        self.stdout.write(f"done in {elapsed:.1f} s")
