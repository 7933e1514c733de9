"""Where market prices come from: the `PriceFeed` adapter interface, a registry by name and the offline
`FilePriceFeed`, which reads the wide CSV format.

Wide format: a `timestamp_utc` column (ISO 8601 UTC, the START of the interval), then one column per market
of prices per MWh, e.g. `timestamp_utc,DE_LU_EUR_MWh,ERCOT_HB_HUBAVG_USD_MWh`. A market finds its column
through `Market.feed_config = {"path": "...", "column": "..."}`; the column may be named in full or by its
prefix (`DE_LU` finds `DE_LU_EUR_MWh`). Empty and NaN cells are missing prices: skipped and reported.
Values are read as text and converted to `Decimal` exactly.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings

log = logging.getLogger(__name__)

TIMESTAMP_COLUMN = "timestamp_utc"
MISSING = {"", "nan", "NaN", "NAN", "null", "NULL", "None"}

PriceRow = tuple[dt.datetime, dt.datetime, Decimal]


class FeedError(Exception):
    """A feed could not deliver: missing configuration, unreadable file, unknown column."""


class PriceFeed(Protocol):
    def fetch_day_ahead(self, market: Any, day: dt.date) -> list[PriceRow]:
        """Return the day-ahead prices [(interval_start, interval_end, price_per_mwh)] of the market's local
        `day` (UTC datetimes); an empty list when they are not published yet."""
        ...


class FeedPrices(list):
    """The prices a feed returned, plus the interval starts it skipped because their cell was missing."""

    def __init__(self, rows: Iterable[PriceRow] = (), skipped: list[dt.datetime] | None = None) -> None:
        super().__init__(rows)
        self.skipped = skipped or []


_REGISTRY: dict[str, Callable[[], PriceFeed]] = {}


def register_feed(name: str) -> Callable[[Callable[[], PriceFeed]], Callable[[], PriceFeed]]:
    """Register a feed factory under `name` (the value of `Market.feed_adapter`)."""

    def decorator(factory: Callable[[], PriceFeed]) -> Callable[[], PriceFeed]:
        _REGISTRY[name] = factory
        return factory

    return decorator


def get_feed(name: str) -> PriceFeed:
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise FeedError(f"No price feed named '{name}'; known: {', '.join(sorted(_REGISTRY))}.") from None


def feed_names() -> list[str]:
    return sorted(_REGISTRY)


@dataclass
class WideColumn:
    """One column of a wide file: the prices present and the interval starts whose cell was missing."""

    column: str
    prices: list[PriceRow] = field(default_factory=list)
    skipped: list[dt.datetime] = field(default_factory=list)


def resolve_path(path: str | Path) -> Path:
    """A relative feed path is relative to the project directory."""
    path = Path(path)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def header_of(path: str | Path) -> list[str]:
    """The value columns of a wide file (every column after `timestamp_utc`)."""
    path = resolve_path(path)
    if not path.is_file():
        raise FeedError(f"No such file: {path}")
    columns = [str(c).strip() for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]
    if not columns or columns[0] != TIMESTAMP_COLUMN:
        raise FeedError(f"{path.name}: the first column must be '{TIMESTAMP_COLUMN}'.")
    return columns[1:]


def match_column(header: list[str], wanted: str) -> str | None:
    """The header column named `wanted`, or the one that starts with `wanted_` (`DE_LU` → `DE_LU_EUR_MWh`)."""
    if wanted in header:
        return wanted
    candidates = [c for c in header if c.startswith(f"{wanted}_")]
    return candidates[0] if len(candidates) == 1 else None


def read_wide(
    path: str | Path,
    *,
    columns: dict[str, int],
    start_at: dt.datetime | None = None,
    end_at: dt.datetime | None = None,
) -> dict[str, WideColumn]:
    """Read the given columns {column: interval_minutes} of a wide file over [start_at, end_at) (UTC)."""
    path = resolve_path(path)
    header = header_of(path)
    unknown = [c for c in columns if c not in header]
    if unknown:
        raise FeedError(f"{path.name}: no column {', '.join(unknown)}; the file has {', '.join(header)}.")
    frame = pd.read_csv(
        path,
        usecols=[TIMESTAMP_COLUMN, *columns],
        dtype="string",
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    stamps = pd.to_datetime(frame[TIMESTAMP_COLUMN], utc=True, format="ISO8601")
    keep = pd.Series(True, index=frame.index)
    if start_at is not None:
        keep &= stamps >= pd.Timestamp(start_at)
    if end_at is not None:
        keep &= stamps < pd.Timestamp(end_at)
    starts = [t.to_pydatetime() for t in stamps[keep]]
    out: dict[str, WideColumn] = {}
    for column, interval_minutes in columns.items():
        length = dt.timedelta(minutes=interval_minutes)
        result = WideColumn(column)
        for start, cell in zip(starts, frame.loc[keep, column].tolist(), strict=True):
            text = (cell or "").strip()
            if text in MISSING:
                result.skipped.append(start)
                continue
            try:
                price = Decimal(text)
            except InvalidOperation:
                result.skipped.append(start)
                continue
            if not price.is_finite():
                result.skipped.append(start)
                continue
            result.prices.append((start, start + length, price))
        out[column] = result
    return out


def local_day_bounds(day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of `day`, local midnight of the next day) in UTC: 23, 24 or 25 hours."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return start, end


@register_feed("file")
class FilePriceFeed:
    """Offline feed: the day's prices from the wide CSV at `feed_config["path"]`, column `["column"]`."""

    def fetch_day_ahead(self, market: Any, day: dt.date) -> FeedPrices:
        config = market.feed_config or {}
        if not config.get("path") or not config.get("column"):
            raise FeedError(f"Market {market.code}: feed_config needs 'path' and 'column' for the file feed.")
        column = match_column(header_of(config["path"]), config["column"])
        if column is None:
            raise FeedError(f"Market {market.code}: no column '{config['column']}' in {config['path']}.")
        start_at, end_at = local_day_bounds(day, market.timezone)
        read = read_wide(
            config["path"],
            columns={column: market.interval_minutes},
            start_at=start_at,
            end_at=end_at,
        )[column]
        if read.skipped:
            log.warning(
                "Market %s, %s: %d missing prices skipped in %s",
                market.code,
                day,
                len(read.skipped),
                config["path"],
            )
        return FeedPrices(read.prices, read.skipped)
