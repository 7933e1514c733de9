import json
import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasting.services.backtests import BadSeriesFile, InvalidBacktest, backtest_file


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"not an ISO date (YYYY-MM-DD): {value!r}") from error


class Command(BaseCommand):
    help = (
        "Rolling-origin backtest of demand models (seasonal naive, Prophet, LightGBM) on any CSV: "
        "one origin per local midnight, MAPE/RMSE/MASE/pinball/coverage per model, and the champion."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--time-column", required=True)
        parser.add_argument("--target-column", required=True)
        parser.add_argument("--regressor-column", action="append", default=[], dest="regressor_columns")
        parser.add_argument(
            "--timezone", default="UTC", help="IANA zone of naive timestamps and of the calendar"
        )
        parser.add_argument("--holidays", default="", help="country[-subdivision], e.g. AU-VIC, GB-ENG, US")
        parser.add_argument("--horizon", type=int, default=24, help="steps forecast from each origin")
        parser.add_argument("--origins-from", type=_date)
        parser.add_argument("--origins-to", type=_date)
        parser.add_argument("--refit-every", type=float, default=7, help="days between refits")
        parser.add_argument("--models", default="auto", help="auto or e.g. prophet,lightgbm,seasonal_naive")
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout only")

    def handle(self, *args, file: Path, **options):
        def progress(message: str) -> None:
            print(message, file=sys.stderr, flush=True)

        try:
            run = backtest_file(
                path=file,
                time_column=options["time_column"],
                target_column=options["target_column"],
                regressor_columns=tuple(options["regressor_columns"]),
                zone=options["timezone"],
                holidays=options["holidays"],
                horizon=options["horizon"],
                origins_from=options["origins_from"],
                origins_to=options["origins_to"],
                refit_every_days=options["refit_every"],
                models=options["models"],
                progress=progress,
            )
        except BadSeriesFile as error:
            raise CommandError(str(error)) from error
        except InvalidBacktest as error:
            raise CommandError("; ".join(error.messages)) from error
        report = run.result.as_json()
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(
            f"{report['origins']} origins, horizon {report['horizon']} × {report['resolution_minutes']} min"
        )
        header = (
            f"{'model':<16}{'MAPE %':>8}{'RMSE':>12}{'MASE':>7}{'pinball80':>11}"
            f"{'cov80':>7}{'cov95':>7}{'fit s':>7}"
        )
        self.stdout.write(header)
        for m in report["models"]:
            self.stdout.write(
                f"{m['name']:<16}{_f(m['mape'], 2):>8}{_f(m['rmse'], 1):>12}{_f(m['mase'], 2):>7}"
                f"{_f(m['pinball_80'], 1):>11}{_f(m['coverage_80'], 2):>7}{_f(m['coverage_95'], 2):>7}"
                f"{_f(m['fit_seconds_median'], 2):>7}"
            )
        naive = report["seasonal_naive"]
        self.stdout.write(f"{'seasonal_naive':<16}{_f(naive['mape'], 2):>8}{_f(naive['rmse'], 1):>12}")
        self.stdout.write(f"champion: {report['champion'] or 'none (no model beats seasonal naive)'}")


def _f(value, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"
