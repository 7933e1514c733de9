"""Writes and domain operations of the pricing app: markets, their prices (import, revisions, feeds) and
the analytics and clearing offered on them."""

import datetime as dt
import inspect
import logging
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import DomainError
from core.periods import is_aware
from core.results import IngestResult
from pricing import analytics, clearing, feeds
from pricing.models import Market, MarketPrice, MarketPriceRevision
from pricing.selectors import markets as selectors

log = logging.getLogger(__name__)

MAX_ABS_PRICE_PER_MWH = Decimal(100_000)
PRICE_DECIMAL_PLACES = 4
INTERVAL_MINUTES = (5, 10, 15, 30, 60)


@dataclass(frozen=True)
class MarketDefaults:
    name: str
    currency: str
    timezone: str
    day_ahead_results_at: dt.time
    column: str = ""
    interval_minutes: int = 60


# Typical publication times of the day-ahead results, local time of the market (defaults; staff can change
# them per market): the European coupled auction (SDAC, EPEX/OMIE/Nord Pool) publishes at about 12:45 CET;
# the GB auctions publish in the late morning; ERCOT and CAISO post their day-ahead market results at about
# 13:00 local time, NYISO at about 11:00. `column` is the column of the shared wide price file.
KNOWN_MARKETS: dict[str, MarketDefaults] = {
    "DE-LU": MarketDefaults("Germany-Luxembourg", "EUR", "Europe/Berlin", dt.time(12, 45), "DE_LU_EUR_MWh"),
    "FR": MarketDefaults("France", "EUR", "Europe/Paris", dt.time(12, 45), "FR_EUR_MWh"),
    "NL": MarketDefaults("Netherlands", "EUR", "Europe/Amsterdam", dt.time(12, 45), "NL_EUR_MWh"),
    "BE": MarketDefaults("Belgium", "EUR", "Europe/Brussels", dt.time(12, 45), "BE_EUR_MWh"),
    "AT": MarketDefaults("Austria", "EUR", "Europe/Vienna", dt.time(12, 45), "AT_EUR_MWh"),
    "CH": MarketDefaults("Switzerland", "EUR", "Europe/Zurich", dt.time(12, 45), "CH_EUR_MWh"),
    "ES": MarketDefaults("Spain", "EUR", "Europe/Madrid", dt.time(12, 45), "ES_EUR_MWh"),
    "PT": MarketDefaults("Portugal", "EUR", "Europe/Lisbon", dt.time(11, 45), "PT_EUR_MWh"),
    "GB": MarketDefaults("Great Britain", "GBP", "Europe/London", dt.time(11, 0)),
    "ERCOT": MarketDefaults(
        "ERCOT hub average", "USD", "America/Chicago", dt.time(13, 0), "ERCOT_HB_HUBAVG_USD_MWh"
    ),
    "CAISO-NP15": MarketDefaults(
        "CAISO NP15", "USD", "America/Los_Angeles", dt.time(13, 0), "CAISO_TH_NP15_USD_MWh"
    ),
    "NYISO-CAPITL": MarketDefaults(
        "NYISO Capital zone", "USD", "America/New_York", dt.time(11, 0), "NYISO_CAPITL_USD_MWh"
    ),
}  # fmt: skip
"""Portugal is one hour behind Spain in wall-clock time, so 12:45 CET is 11:45 in Lisbon."""


class UnableToEnsureMarket(DomainError):
    code = "market_invalid"


class UnableToImportPrices(DomainError):
    code = "prices_refused"


class UnableToAnalyseMarket(DomainError):
    code = "analytics_invalid"


class UnableToClearMarket(DomainError):
    code = "clearing_invalid"


# --- markets -----------------------------------------------------------------------------------------------


@transaction.atomic
def market_ensure(
    *,
    code: str,
    currency: str | None = None,
    timezone: str | None = None,
    interval_minutes: int | None = None,
    day_ahead_results_at: dt.time | None = None,
    name: str | None = None,
    feed_adapter: str | None = None,
    feed_config: dict | None = None,
) -> Market:
    """Create the market `code` if it is missing, taking what is not given from `KNOWN_MARKETS`.

    An existing market is returned; its name, results time and feed are updated when given. Its currency,
    zone and interval length define its stored prices and cannot change here (DomainError).
    """
    code = code.strip()
    if not code:
        raise UnableToEnsureMarket("A market needs a code.", field="code")
    known = KNOWN_MARKETS.get(code)
    existing = Market.objects.select_for_update().filter(code=code).first()
    if existing is not None:
        for attribute, wanted in (
            ("currency", currency),
            ("timezone", timezone),
            ("interval_minutes", interval_minutes),
        ):
            if wanted is not None and getattr(existing, attribute) != wanted:
                raise UnableToEnsureMarket(
                    f"Market {code} exists with {attribute} {getattr(existing, attribute)}.",
                    field=attribute,
                    code="market_exists",
                )
        changed = {
            attribute: value
            for attribute, value in (
                ("name", name),
                ("day_ahead_results_at", day_ahead_results_at),
                ("feed_adapter", feed_adapter),
                ("feed_config", feed_config),
            )
            if value is not None and getattr(existing, attribute) != value
        }
        if changed:
            _check_feed_adapter(changed.get("feed_adapter"))
            for attribute, value in changed.items():
                setattr(existing, attribute, value)
            existing.save(update_fields=list(changed))
        return existing

    currency = currency or (known.currency if known else None)
    timezone = timezone or (known.timezone if known else None)
    day_ahead_results_at = day_ahead_results_at or (known.day_ahead_results_at if known else None)
    interval_minutes = interval_minutes or (known.interval_minutes if known else 60)
    for attribute, value in (
        ("currency", currency),
        ("timezone", timezone),
        ("day_ahead_results_at", day_ahead_results_at),
    ):
        if value is None:
            raise UnableToEnsureMarket(
                f"Market {code} is not a known market: give its {attribute}.", field=attribute
            )
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise UnableToEnsureMarket(f"'{currency}' is not an ISO 4217 currency code.", field="currency")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UnableToEnsureMarket(f"'{timezone}' is not an IANA time zone.", field="timezone") from None
    if interval_minutes not in INTERVAL_MINUTES:
        raise UnableToEnsureMarket(
            f"The interval must be one of {', '.join(map(str, INTERVAL_MINUTES))} minutes.",
            field="interval_minutes",
        )
    _check_feed_adapter(feed_adapter)
    return Market.objects.create(
        code=code,
        name=name if name is not None else (known.name if known else ""),
        currency=currency,
        timezone=timezone,
        interval_minutes=interval_minutes,
        day_ahead_results_at=day_ahead_results_at,
        feed_adapter=feed_adapter or "file",
        feed_config=feed_config or {},
    )


def _check_feed_adapter(name: str | None) -> None:
    if name is not None and name not in feeds.feed_names():
        raise UnableToEnsureMarket(
            f"No price feed '{name}'; known: {', '.join(feeds.feed_names())}.", field="feed_adapter"
        )


def _market(code: str) -> Market:
    market = selectors.market_get(code=code)
    if market is None:
        raise UnableToImportPrices(f"No market '{code}'.", field="market", code="not_found")
    return market


# --- prices ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceInput:
    interval_start: dt.datetime
    interval_end: dt.datetime
    price_per_mwh: Decimal


@dataclass
class PriceImportResult(IngestResult):
    """An ingest's result; settled_revisions ⊆ revised are revisions of settled prices that need review."""

    settled_revisions: int = 0

    def add(self, other: IngestResult, index_offset: int = 0) -> None:
        super().add(other, index_offset)
        self.settled_revisions += getattr(other, "settled_revisions", 0)


def _validate_price(
    row: Any, market: Market, zone: zoneinfo.ZoneInfo
) -> tuple[tuple[str, str, str] | None, PriceInput | None]:
    """(reject, None) or (None, the price with UTC datetimes)."""
    start, end, price = row
    for name, value in (("interval_start", start), ("interval_end", end)):
        if not isinstance(value, dt.datetime) or not is_aware(value):
            return (name, "naive_timestamp", f"{name} needs a time zone offset."), None
    if end <= start:
        return ("interval_end", "empty_interval", "interval_end must be after interval_start."), None
    if end - start != dt.timedelta(minutes=market.interval_minutes):
        return (
            "interval_end",
            "wrong_interval_length",
            f"Intervals of {market.code} are {market.interval_minutes} minutes long.",
        ), None
    local = start.astimezone(zone)
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % market.interval_minutes:
        return (
            "interval_start",
            "misaligned_interval",
            f"interval_start must be on a {market.interval_minutes}-minute boundary of {market.timezone}.",
        ), None
    if isinstance(price, int) and not isinstance(price, bool):
        price = Decimal(price)
    if not isinstance(price, Decimal) or not price.is_finite():
        return ("price_per_mwh", "invalid_number", "The price must be a finite decimal number."), None
    if abs(price) >= MAX_ABS_PRICE_PER_MWH:
        return (
            "price_per_mwh",
            "out_of_range",
            "The price must be between -100,000 and 100,000 per MWh.",
        ), None
    if price.as_tuple().exponent < -PRICE_DECIMAL_PLACES and price != price.quantize(Decimal("0.0001")):
        return ("price_per_mwh", "too_precise", "Prices have at most 4 decimal places."), None
    return None, PriceInput(start.astimezone(dt.UTC), end.astimezone(dt.UTC), price)


def market_prices_import(
    *,
    market_code: str,
    currency: str,
    prices: Sequence[PriceInput | tuple[dt.datetime, dt.datetime, Decimal]],
    now: dt.datetime,
) -> PriceImportResult:
    """Validate and store a market's prices in one transaction; idempotent.

    A rejected price writes nothing; the others are written. The same price again is a duplicate and changes
    nothing; a different price for a stored interval replaces it and records a `MarketPriceRevision`,
    `settled` when the interval had ended at `now` (those are flagged for staff review). A currency other
    than the market's refuses the whole request. Set-based: one query loads the stored prices of the batch's
    range, then bulk inserts and updates.
    """
    market = _market(market_code)
    if currency != market.currency:
        raise UnableToImportPrices(
            f"Prices of {market.code} are in {market.currency}, not {currency}.",
            field="currency",
            code="currency_mismatch",
        )
    zone = zoneinfo.ZoneInfo(market.timezone)
    result = PriceImportResult()
    valid: dict[dt.datetime, tuple[int, PriceInput]] = {}
    for index, row in enumerate(prices):
        if isinstance(row, PriceInput):
            row = (row.interval_start, row.interval_end, row.price_per_mwh)
        reject, price = _validate_price(row, market, zone)
        if reject is not None:
            field_name, code, message = reject
            result.reject(index, code, field_name, message)
            continue
        earlier = valid.get(price.interval_start)
        if earlier is not None:
            if earlier[1].price_per_mwh == price.price_per_mwh:
                result.duplicates += 1
            else:
                result.reject(
                    index,
                    "conflicting_duplicate",
                    "interval_start",
                    f"The request has another price for this interval (index {earlier[0]}).",
                )
            continue
        valid[price.interval_start] = (index, price)
    if valid:
        counts = _merge_with_retry(market, [p for _, p in valid.values()], now)
        result.accepted += counts.accepted
        result.revised += counts.revised
        result.settled_revisions += counts.settled_revisions
        result.duplicates += counts.duplicates
    return result


def _merge_with_retry(market: Market, prices: list[PriceInput], now: dt.datetime) -> PriceImportResult:
    """A concurrent import that inserted some of the same intervals first makes the insert fail on the key;
    the retry then finds them stored and counts them as duplicates or revisions."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _merge(market, prices, now)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _merge(market: Market, prices: list[PriceInput], now: dt.datetime) -> PriceImportResult:
    counts = PriceImportResult()
    stored = {
        p.interval_start: p
        for p in MarketPrice.objects.select_for_update().filter(
            market=market,
            interval_start__gte=min(p.interval_start for p in prices),
            interval_start__lt=max(p.interval_end for p in prices),
        )
    }
    new, changed, revisions = [], [], []
    for price in prices:
        existing = stored.get(price.interval_start)
        if existing is None:
            new.append(
                MarketPrice(
                    market=market,
                    interval_start=price.interval_start,
                    interval_end=price.interval_end,
                    price_per_mwh=price.price_per_mwh,
                    received_at=now,
                )
            )
        elif existing.price_per_mwh == price.price_per_mwh:
            counts.duplicates += 1
        else:
            settled = existing.interval_end <= now
            revisions.append(
                MarketPriceRevision(
                    market=market,
                    interval_start=existing.interval_start,
                    old_price_per_mwh=existing.price_per_mwh,
                    new_price_per_mwh=price.price_per_mwh,
                    settled=settled,
                    superseded_at=now,
                )
            )
            existing.price_per_mwh = price.price_per_mwh
            existing.revised_at = now
            changed.append(existing)
            counts.settled_revisions += settled
    MarketPrice.objects.bulk_create(new, batch_size=2000)
    MarketPrice.objects.bulk_update(changed, ["price_per_mwh", "revised_at"], batch_size=2000)
    MarketPriceRevision.objects.bulk_create(revisions, batch_size=2000)
    counts.accepted = len(new) + len(changed)
    counts.revised = len(changed)
    return counts


@transaction.atomic
def market_price_revisions_mark_reviewed(*, revision_ids: Sequence[int]) -> int:
    """Mark revisions as reviewed by staff; returns how many changed."""
    return MarketPriceRevision.objects.filter(pk__in=list(revision_ids), reviewed=False).update(reviewed=True)


# --- files and feeds ---------------------------------------------------------------------------------------


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
            raise UnableToImportPrices(f"No market '{code}'{hint}.", field="markets", code="not_found")
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
    market = _market(market_code)
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


# --- analytics and clearing --------------------------------------------------------------------------------

MAX_ANALYTICS_DAYS = 366


@dataclass(frozen=True)
class MarketAnalytics:
    market_code: str
    currency: str
    confidence: float
    summary: analytics.PeriodSummary
    volatility: float | None
    value_at_risk: Decimal | None
    expected_shortfall: Decimal | None
    var95: Decimal | None
    var99: Decimal | None
    es95: Decimal | None
    es99: Decimal | None


def _series(market_code: str, period_from: dt.datetime, period_to: dt.datetime):
    market = selectors.market_get(code=market_code)
    if market is None:
        raise UnableToAnalyseMarket(f"No market '{market_code}'.", field="market", code="not_found")
    if period_to <= period_from:
        raise UnableToAnalyseMarket("periodTo must be after periodFrom.", field="period_to")
    if period_to - period_from > dt.timedelta(days=MAX_ANALYTICS_DAYS):
        raise UnableToAnalyseMarket(
            f"The period can be at most {MAX_ANALYTICS_DAYS} days.", field="period_to"
        )
    if market.interval_minutes != 60:
        raise UnableToAnalyseMarket("Analytics need hourly prices.", field="market")
    series = selectors.market_price_series(market=market, period_from=period_from, period_to=period_to)
    if series.empty:
        raise UnableToAnalyseMarket("No prices in the period.", field="period_from", code="no_prices")
    return market, series


def _or_none(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Statistics that need at least two hour-to-hour changes are None on a shorter series."""
    try:
        return function(*args, **kwargs)
    except ValueError:
        return None


def market_analytics(
    *, market_code: str, period_from: dt.datetime, period_to: dt.datetime, confidence: float = 0.95
) -> MarketAnalytics:
    """Base/peak/off-peak averages, min/max, volatility, VaR and ES (buyer, 1 hour) of [period_from,
    period_to). VWAP needs traded volumes, which the market prices do not carry."""
    if not 0 < confidence < 1:
        raise UnableToAnalyseMarket("confidence must be between 0 and 1.", field="confidence")
    market, series = _series(market_code, period_from, period_to)
    return MarketAnalytics(
        market_code=market.code,
        currency=market.currency,
        confidence=confidence,
        summary=analytics.period_summary(series, timezone=market.timezone),
        volatility=_or_none(analytics.volatility, series),
        value_at_risk=_or_none(analytics.value_at_risk, series, confidence=confidence),
        expected_shortfall=_or_none(analytics.expected_shortfall, series, confidence=confidence),
        var95=_or_none(analytics.value_at_risk, series, confidence=0.95),
        var99=_or_none(analytics.value_at_risk, series, confidence=0.99),
        es95=_or_none(analytics.expected_shortfall, series, confidence=0.95),
        es99=_or_none(analytics.expected_shortfall, series, confidence=0.99),
    )


def market_stress(
    *,
    market_code: str,
    period_from: dt.datetime,
    period_to: dt.datetime,
    scenario: str,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`analytics.stress_summary` of the period under a named scenario; the market's zone is supplied."""
    if scenario not in analytics.SCENARIOS:
        raise UnableToAnalyseMarket(
            f"Unknown scenario '{scenario}'; choose one of {', '.join(analytics.SCENARIOS)}.",
            field="scenario",
        )
    market, series = _series(market_code, period_from, period_to)
    function = analytics.SCENARIOS[scenario]
    allowed = set(inspect.signature(function).parameters) - {"prices", "timezone"}
    params = dict(params or {})
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise UnableToAnalyseMarket(
            f"Unknown parameter {', '.join(unknown)} of {scenario}; known: {', '.join(sorted(allowed))}.",
            field="params",
        )
    if "timezone" in inspect.signature(function).parameters:
        params["timezone"] = market.timezone
    try:
        summary = analytics.stress_summary(series, scenario, **params)
    except (ValueError, TypeError) as exc:
        raise UnableToAnalyseMarket(str(exc), field="params") from exc
    return {**summary, "market_code": market.code, "currency": market.currency}


def market_clear(*, offers: Sequence[clearing.Order], bids: Sequence[clearing.Order]) -> clearing.Clearing:
    """Clear offers against bids at one uniform price (`pricing.clearing`)."""
    try:
        return clearing.clear(offers, bids)
    except ValueError as exc:
        side = str(exc).split("[", 1)[0]
        raise UnableToClearMarket(str(exc), field=side if side in ("offers", "bids") else None) from exc
