"""Market prices from files and feeds: wide day-ahead files, and the day-ahead feed of each market fetched
once its results are out (the feed adapters are in `pricing.feeds`)."""

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import NOT_FOUND
from pricing import feeds
from pricing.models import Market
from pricing.selectors import markets as selectors
from pricing.services.markets import (
    KNOWN_MARKETS,
    PriceImportResult,
    UnableToImportPrices,
    market_ensure,
    market_get_or_refuse,
    market_prices_import,
)

log = logging.getLogger(__name__)


@dataclass
class MarketFileImport:
    market_code: str
    column: str
    result: PriceImportResult
    skipped: int


def market_prices_import_file(
    *,
    path: str | Path,
    now: dt.datetime,
    market_codes: Sequence[str] | None = None,
    create_markets: bool = False,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    chunk_size: int = 5000,
    progress: Callable[[int], Any] | None = None,
) -> list[MarketFileImport]:
    """Import a wide price file (see `pricing.feeds`), one market per column; idempotent.

    Markets are those named in `market_codes`, or else one per column of the file. A market's column is
    `feed_config["column"]`, or the known default; `create_markets` creates known markets that are missing.
    `date_from`/`date_to` (UTC dates, both included) restrict the rows. Missing cells are skipped and counted.
    """
    header = feeds.header_of(path)
    if market_codes is None:
        by_column = _markets_by_column(header)
        unknown = [c for c in header if c not in by_column]
        if unknown:
            raise UnableToImportPrices(
                f"No market for column {', '.join(unknown)}; name the markets to import.",
                field="markets",
                code="unknown_column",
            )
        market_codes = list(by_column.values())
    plan: dict[str, tuple[Market, str]] = {}
    for code in market_codes:
        market = selectors.market_get(code=code)
        if market is None and create_markets and code in KNOWN_MARKETS:
            market = market_ensure(code=code)
        if market is None:
            hint = "" if code not in KNOWN_MARKETS else " (create it with --create-markets)"
            raise UnableToImportPrices(f"No market '{code}'{hint}.", field="markets", code=NOT_FOUND)
        wanted = (market.feed_config or {}).get("column") or getattr(KNOWN_MARKETS.get(code), "column", "")
        column = feeds.match_column(header, wanted) if wanted else None
        if column is None:
            raise UnableToImportPrices(
                f"No column for market {code} in the file (columns: {', '.join(header)}).",
                field="markets",
                code="unknown_column",
            )
        plan[code] = (market, column)
    start_at = dt.datetime.combine(date_from, dt.time(), tzinfo=dt.UTC) if date_from else None
    end_at = (
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) if date_to else None
    )
    read = feeds.read_wide(
        path,
        columns={column: market.interval_minutes for market, column in plan.values()},
        start_at=start_at,
        end_at=end_at,
    )
    outcomes = []
    for code, (market, column) in plan.items():
        rows = read[column].prices
        result = PriceImportResult()
        for offset in range(0, len(rows), chunk_size):
            chunk = rows[offset : offset + chunk_size]
            result.add(
                market_prices_import(market_code=code, currency=market.currency, prices=chunk, now=now),
                offset,
            )
            if progress is not None:
                progress(len(chunk))
        outcomes.append(MarketFileImport(code, column, result, len(read[column].skipped)))
    return outcomes


def _markets_by_column(header: list[str]) -> dict[str, str]:
    """{column: market code} for `header`: the stored markets' feed columns, then the known defaults."""
    wanted = {
        m.code: (m.feed_config or {}).get("column") or getattr(KNOWN_MARKETS.get(m.code), "column", "")
        for m in selectors.market_list()
    }
    for code, known in KNOWN_MARKETS.items():
        wanted.setdefault(code, known.column)
    out: dict[str, str] = {}
    for code, column in wanted.items():
        matched = feeds.match_column(header, column) if column else None
        if matched is not None:
            out.setdefault(matched, code)
    return out


def market_prices_fetch(*, market_code: str, day: dt.date, now: dt.datetime) -> PriceImportResult:
    """Fetch one market's day-ahead prices for its local `day` through its feed, and import them."""
    market = market_get_or_refuse(market_code)
    try:
        prices = feeds.get_feed(market.feed_adapter).fetch_day_ahead(market, day)
    except feeds.FeedError as exc:
        raise UnableToImportPrices(str(exc), field="market", code="feed_failed") from exc
    return market_prices_import(market_code=market.code, currency=market.currency, prices=prices, now=now)


def market_prices_fetch_due(*, now: dt.datetime) -> dict[str, dict]:
    """Fetch and import the next local day for every market whose results time has passed and which has no
    price for that day yet. One market failing is logged and does not stop the others."""
    outcomes: dict[str, dict] = {}
    for market, day in selectors.markets_due_for_fetch(now=now):
        try:
            result = market_prices_fetch(market_code=market.code, day=day, now=now)
        except Exception as exc:
            log.exception("Fetching day-ahead prices of %s for %s failed", market.code, day)
            outcomes[market.code] = {"day": day.isoformat(), "error": str(exc)}
            continue
        outcomes[market.code] = {
            "day": day.isoformat(),
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "revised": result.revised,
            "rejected": result.rejected_count,
        }
    return outcomes
