import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from pricing.services.markets import KNOWN_MARKETS, market_ensure


class Command(BaseCommand):
    help = (
        "Create a market (or update the name, results time and feed of an existing one). Known markets "
        f"({', '.join(KNOWN_MARKETS)}) take their currency, zone, interval and results time from defaults."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="+", help="Market codes, e.g. DE-LU ERCOT.")
        parser.add_argument("--currency", help="ISO 4217 code, e.g. EUR.")
        parser.add_argument("--timezone", help="IANA zone, e.g. Europe/Berlin.")
        parser.add_argument("--interval-minutes", type=int)
        parser.add_argument("--results-at", help="Local time the day-ahead results arrive, HH:MM.")
        parser.add_argument("--name")
        parser.add_argument("--feed-adapter", help="Name of the price feed, e.g. file.")
        parser.add_argument("--feed-path", help="File feed: path of the wide CSV file.")
        parser.add_argument("--feed-column", help="File feed: the market's column, e.g. DE_LU.")

    def handle(self, *args, codes: list[str], **options):
        try:
            results_at = dt.time.fromisoformat(options["results_at"]) if options["results_at"] else None
        except ValueError as exc:
            raise CommandError(f"--results-at must be HH:MM: {exc}") from exc
        feed_config = None
        if options["feed_path"] or options["feed_column"]:
            feed_config = {"path": options["feed_path"] or "", "column": options["feed_column"] or ""}
        for code in codes:
            try:
                market = market_ensure(
                    code=code,
                    currency=options["currency"],
                    timezone=options["timezone"],
                    interval_minutes=options["interval_minutes"],
                    day_ahead_results_at=results_at,
                    name=options["name"],
                    feed_adapter=options["feed_adapter"],
                    feed_config=feed_config,
                )
            except DomainError as exc:
                raise CommandError(f"{code}: {' '.join(exc.messages)}") from exc
            self.stdout.write(
                f"{market.code}: {market.currency}, {market.timezone}, {market.interval_minutes} min, "
                f"results at {market.day_ahead_results_at:%H:%M} local, feed {market.feed_adapter} "
                f"{market.feed_config or ''}"
            )
