"""Markets and their prices: markets created and changed, prices imported (a changed price is kept as a
revision for staff to review), and offers cleared against bids. Price files and feeds: `market_feeds`."""

import datetime as dt
import logging
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import NOT_FOUND, DomainError
from core.periods import is_aware
from core.results import IngestResult
from pricing import clearing, feeds
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


class UnableToEnsureMarket(DomainError, code="market_invalid"): ...


class UnableToImportPrices(DomainError, code="prices_refused"): ...


class UnableToClearMarket(DomainError, code="clearing_invalid"): ...


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


class UnableToCreateMarket(DomainError, code="market_invalid"): ...


class UnableToUpdateMarket(DomainError, code="market_invalid"): ...


_DEFINING = ("currency", "timezone", "interval_minutes")


def _check_market_fields(error: type[DomainError], fields: dict[str, Any]) -> None:
    """Refuse a bad value of any given Market attribute with `error`, naming the field."""
    if "name" in fields and len(fields["name"]) > Market._meta.get_field("name").max_length:  # type: ignore[arg-type]
        raise error("The name is at most 100 characters long.", field="name")
    currency = fields.get("currency")
    if currency is not None and (len(currency) != 3 or not currency.isalpha() or not currency.isupper()):
        raise error(f"'{currency}' is not an ISO 4217 currency code.", field="currency")
    timezone = fields.get("timezone")
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise error(f"'{timezone}' is not an IANA time zone.", field="timezone") from None
    interval = fields.get("interval_minutes")
    if interval is not None and interval not in INTERVAL_MINUTES:
        raise error(
            f"The interval must be one of {', '.join(map(str, INTERVAL_MINUTES))} minutes.",
            field="interval_minutes",
        )
    adapter = fields.get("feed_adapter")
    if adapter is not None and adapter not in feeds.feed_names():
        raise error(
            f"No price feed '{adapter}'; known: {', '.join(feeds.feed_names())}.", field="feed_adapter"
        )
    config = fields.get("feed_config")
    if config is not None and not isinstance(config, dict):
        raise error("The feed configuration is a JSON object.", field="feed_config")


@transaction.atomic
def market_create(
    *,
    code: str,
    currency: str,
    timezone: str,
    day_ahead_results_at: dt.time,
    interval_minutes: int = 60,
    name: str = "",
    feed_adapter: str = "file",
    feed_config: dict | None = None,
) -> Market:
    """Create a market (audited through django-auditlog); the same request again returns it unchanged.

    A market with this code and other attributes is refused (`market_exists` on `code`): change it with
    `market_update`.
    """
    code = code.strip()
    if not code:
        raise UnableToCreateMarket("A market needs a code.", field="code")
    if len(code) > Market._meta.get_field("code").max_length:  # type: ignore[operator]
        raise UnableToCreateMarket("A market code is at most 20 characters long.", field="code")
    wanted: dict[str, Any] = {
        "name": name,
        "currency": currency,
        "timezone": timezone,
        "interval_minutes": interval_minutes,
        "day_ahead_results_at": day_ahead_results_at,
        "feed_adapter": feed_adapter,
        "feed_config": feed_config or {},
    }
    _check_market_fields(UnableToCreateMarket, wanted)
    existing = Market.objects.select_for_update().filter(code=code).first()
    if existing is not None:
        if all(getattr(existing, k) == v for k, v in wanted.items()):
            return existing
        raise UnableToCreateMarket(
            f"Market {code} exists with other attributes; change it with marketUpdate.",
            field="code",
            code="market_exists",
        )
    return Market.objects.create(code=code, **wanted)


@transaction.atomic
def market_update(
    *,
    code: str,
    name: str | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    interval_minutes: int | None = None,
    day_ahead_results_at: dt.time | None = None,
    feed_adapter: str | None = None,
    feed_config: dict | None = None,
) -> Market:
    """Change the given attributes of a market (audited); attributes not given stay as they are.

    Currency, time zone and interval length define the stored prices: they change only while the market
    has no prices (`market_has_prices` on the field).
    """
    market = Market.objects.select_for_update().filter(code=code).first()
    if market is None:
        raise UnableToUpdateMarket(f"No market '{code}'.", field="code", code=NOT_FOUND)
    given = {
        attribute: value
        for attribute, value in (
            ("name", name),
            ("currency", currency),
            ("timezone", timezone),
            ("interval_minutes", interval_minutes),
            ("day_ahead_results_at", day_ahead_results_at),
            ("feed_adapter", feed_adapter),
            ("feed_config", feed_config),
        )
        if value is not None
    }
    _check_market_fields(UnableToUpdateMarket, given)
    changed = {k: v for k, v in given.items() if getattr(market, k) != v}
    for attribute in _DEFINING:
        if attribute in changed and MarketPrice.objects.filter(market=market).exists():
            raise UnableToUpdateMarket(
                f"Market {code} has prices; its {attribute} cannot change.",
                field=attribute,
                code="market_has_prices",
            )
    if changed:
        for attribute, value in changed.items():
            setattr(market, attribute, value)
        market.save(update_fields=list(changed))
    return market


def _check_feed_adapter(name: str | None) -> None:
    if name is not None and name not in feeds.feed_names():
        raise UnableToEnsureMarket(
            f"No price feed '{name}'; known: {', '.join(feeds.feed_names())}.", field="feed_adapter"
        )


def market_get_or_refuse(code: str) -> Market:
    """The market `code`, or UnableToImportPrices naming the `market` field."""
    market = selectors.market_get(code=code)
    if market is None:
        raise UnableToImportPrices(f"No market '{code}'.", field="market", code=NOT_FOUND)
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
    market = market_get_or_refuse(market_code)
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


# --- clearing ----------------------------------------------------------------------------------------------


def market_clear(*, offers: Sequence[clearing.Order], bids: Sequence[clearing.Order]) -> clearing.Clearing:
    """Clear offers against bids at one uniform price (`pricing.clearing`)."""
    try:
        return clearing.clear(offers, bids)
    except ValueError as exc:
        side = str(exc).split("[", 1)[0]
        raise UnableToClearMarket(str(exc), field=side if side in ("offers", "bids") else None) from exc
