"""Peer-to-peer trading of a feeder community (billing.p2p): bills with and without P2P from the same billing
engine, settlement lines (P2P purchase, P2P sale, P2P fee) on each party's bill, and the comparison of the
community with and without trading (bills, self-sufficiency, fairness). See docs/tariff-analytics.md.

With P2P a buyer's import meter reads its grid import minus what it bought, a seller's export meter its
export minus what it sold; the engine bills those, and the settlement lines are added (tax-exempt: they are
transfers between neighbours, not supply).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

import numpy as np
from django.db import transaction

from billing import comparison, engine, p2p
from billing.comparison import TariffSummary
from billing.models import Agreement, Customer, Invoice
from billing.services.bill_loading import RunContext
from billing.services.bill_writes import invoice_build, invoices_save
from billing.services.comparison import (
    Cohort,
    _account_inputs,
    cohort_customer_ids,
    measured_prosumer_energy,
)
from core.errors import DomainError
from pricing import engine as rates
from pricing.documents import to_micros

P2P_PURCHASE = "P2P_PURCHASE"
P2P_SALE = "P2P_SALE"
P2P_FEE = "P2P_FEE"


class UnableToSettleCommunity(DomainError, code="p2p_invalid"): ...


@dataclass
class CommunityResult:
    period_start: date
    period_end: date
    feeder_code: str
    fee_per_kwh: Decimal
    without: dict[str, engine.Bill]
    with_p2p: dict[str, engine.Bill]
    held: dict[str, str]
    traded_kwh: Decimal
    imported_kwh: Decimal
    purchases: Decimal
    sales: Decimal
    fees: Decimal
    summary_without: TariffSummary
    summary_with: TariffSummary
    # with P2P (and storage): what the members still import from the grid
    grid_import_kwh: Decimal = Decimal("0.0000")
    # members' consumption (import + own PV used at home, the latter known only from generation meters) and
    # the PV part of it
    consumption_kwh: Decimal = Decimal("0.0000")
    pv_self_consumed_kwh: Decimal = Decimal("0.0000")
    # storage (members with a battery): energy charged (own surplus / community surplus), delivered (to the
    # own member / to neighbours) and lost, in kWh
    battery_accounts: list[str] = field(default_factory=list)
    battery_charged_own_kwh: Decimal = Decimal("0.0000")
    battery_charged_community_kwh: Decimal = Decimal("0.0000")
    battery_discharged_own_kwh: Decimal = Decimal("0.0000")
    battery_discharged_community_kwh: Decimal = Decimal("0.0000")
    battery_losses_kwh: Decimal = Decimal("0.0000")
    prosumers: dict[str, comparison.ProsumerEnergy] = field(default_factory=dict)

    @property
    def self_sufficiency_with(self) -> float | None:
        """Share of the community's demand on the grid (without P2P) met inside the community instead, by
        neighbours' surplus and batteries: 1 − grid import with ÷ import without (traded ÷ imported without
        storage)."""
        if not self.imported_kwh:
            return None
        return float((self.imported_kwh - self.grid_import_kwh) / self.imported_kwh)

    @property
    def consumption_self_sufficiency_without(self) -> float | None:
        """Share of the members' consumption not imported from the grid, without P2P: their own PV."""
        return float(self.pv_self_consumed_kwh / self.consumption_kwh) if self.consumption_kwh else None

    @property
    def consumption_self_sufficiency_with(self) -> float | None:
        """Share of the members' consumption not imported from the grid, with P2P (and storage)."""
        if not self.consumption_kwh:
            return None
        return float(1 - self.grid_import_kwh / self.consumption_kwh)


@dataclass(frozen=True)
class BatterySpec:
    """A member battery in physical units: usable capacity (kWh), power (kW), round-trip efficiency."""

    capacity_kwh: Decimal
    power_kw: Decimal
    efficiency: Decimal = Decimal("0.90")

    def __post_init__(self) -> None:
        if self.capacity_kwh < 0:
            raise UnableToSettleCommunity(
                "A battery's capacity is not negative.", field="battery_capacity_kwh"
            )
        if self.power_kw < 0:
            raise UnableToSettleCommunity("A battery's power is not negative.", field="battery_power_kw")
        if not 0 < self.efficiency <= 1:
            raise UnableToSettleCommunity("A battery's efficiency is in (0, 1].", field="battery_efficiency")

    def for_interval(self, seconds: int) -> p2p.Battery:
        """The battery in the settlement's units for intervals of `seconds` (starting empty)."""
        return p2p.Battery(
            capacity_kwh_e4=int(self.capacity_kwh.scaleb(4)),
            power_kwh_e4=int((self.power_kw * seconds / 3600).scaleb(4)),
            efficiency_ppm=int(self.efficiency.scaleb(6)),
        )


def p2p_community_compute(
    *,
    feeder_code: str,
    period_start: date,
    period_end: date,
    fee_per_kwh: Decimal,
    battery: BatterySpec | None = None,
    battery_accounts: Sequence[str] | None = None,
) -> CommunityResult:
    """Settle the feeder's community over the period and bill every account with and without trading.

    With `battery`, the members whose meter point has a battery (`has_battery`), or those of
    `battery_accounts` when given, get that battery behind the meter; `billing.p2p.dispatch_batteries`
    runs it before clearing, and the bills with P2P are computed from the flows after it."""
    if fee_per_kwh < 0 or fee_per_kwh != fee_per_kwh.quantize(Decimal("0.000001")):
        raise UnableToSettleCommunity(
            "The network fee is a non-negative amount per kWh with at most 6 decimals.", field="fee_per_kwh"
        )
    ids = cohort_customer_ids(
        cohort=Cohort(feeder_code=feeder_code), period_start=period_start, period_end=period_end
    )
    if not ids:
        raise UnableToSettleCommunity(
            f"No account on feeder {feeder_code!r} in the period.", field="feeder_code"
        )
    numbers = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "account_number"))
    context = RunContext(period_start, period_end)
    inputs = _account_inputs(ids, context)
    without: dict[str, engine.Bill] = {}
    held: dict[str, str] = {}
    parties: list[p2p.Party] = []
    prepared: dict[str, list[engine.AgreementInput]] = {}
    starts = None
    for customer_id in ids:
        number = numbers[customer_id]
        agreements = inputs.get(customer_id, [])
        try:
            without[number] = engine.bill_compute(
                agreements=agreements, period_start=period_start, period_end=period_end
            )
            party, grid = _party(number, agreements, period_start, period_end)
        except engine.BillHeld as exc:
            held[number] = exc.reason
            continue
        if starts is None:
            starts = grid
        elif not np.array_equal(starts, grid):
            held[number] = "its readings' intervals differ from the community's (P2P needs one resolution)"
            del without[number]
            continue
        parties.append(party)
        prepared[number] = agreements
    if not parties:
        raise UnableToSettleCommunity("No account of the community can be billed.", field="feeder_code")
    fee_micros = to_micros(fee_per_kwh)
    parties.sort(key=lambda p: p.key)
    owners = _battery_owners(ids, numbers, battery, battery_accounts)
    batteries = {
        p.key: battery.for_interval(_interval_seconds(prepared[p.key]))
        for p in parties
        if battery is not None and p.key in owners
    }
    storage = p2p.dispatch_batteries(parties, batteries)
    settlement = p2p.settle(storage.parties, fee_micros=fee_micros)
    before = {p.key: p for p in parties}
    with_p2p = {}
    for after in storage.parties:
        number = after.key
        with_p2p[number] = _bill_with_p2p(
            prepared[number],
            settlement,
            number,
            period_start,
            period_end,
            fee_per_kwh,
            import_less=before[number].import_kwh_e4 - after.import_kwh_e4 + settlement.bought_kwh_e4[number],
            export_less=before[number].export_kwh_e4 - after.export_kwh_e4 + settlement.sold_kwh_e4[number],
        )
    imported = sum(int(p.import_kwh_e4.sum()) for p in parties)
    grid_import = sum(int((p.import_kwh_e4 - settlement.bought_kwh_e4[p.key]).sum()) for p in storage.parties)
    prosumers = {
        number: energy
        for number in prepared
        if (energy := measured_prosumer_energy(prepared[number], period_start, period_end)) is not None
    }
    pv_used = sum(e.self_consumed_kwh_e4 for e in prosumers.values())
    current = {n: b.total for n, b in without.items()}

    def kwh(value: int) -> Decimal:
        return Decimal(value).scaleb(-4).quantize(engine.KWH_PLACES)

    def total(flows: dict[str, np.ndarray]) -> Decimal:
        return kwh(sum(int(v.sum()) for v in flows.values()))

    return CommunityResult(
        period_start=period_start,
        period_end=period_end,
        feeder_code=feeder_code,
        fee_per_kwh=fee_per_kwh,
        without=without,
        with_p2p=with_p2p,
        held=held,
        traded_kwh=Decimal(settlement.traded_kwh_e4).scaleb(-4),
        imported_kwh=Decimal(imported).scaleb(-4),
        purchases=sum(settlement.purchase.values(), Decimal("0.00")),
        sales=sum(settlement.sale.values(), Decimal("0.00")),
        fees=sum(settlement.fee.values(), Decimal("0.00")),
        summary_without=comparison.summarise("without P2P", current, current),
        summary_with=comparison.summarise("with P2P", {n: b.total for n, b in with_p2p.items()}, current),
        grid_import_kwh=kwh(grid_import),
        consumption_kwh=kwh(imported + pv_used),
        pv_self_consumed_kwh=kwh(pv_used),
        battery_accounts=sorted(batteries),
        battery_charged_own_kwh=total(storage.charged_own_kwh_e4),
        battery_charged_community_kwh=total(storage.charged_community_kwh_e4),
        battery_discharged_own_kwh=total(storage.discharged_own_kwh_e4),
        battery_discharged_community_kwh=total(storage.discharged_community_kwh_e4),
        battery_losses_kwh=kwh(sum(storage.losses_kwh_e4.values())),
        prosumers=prosumers,
    )


def _battery_owners(
    ids: list[int],
    numbers: dict[int, str],
    battery: BatterySpec | None,
    battery_accounts: Sequence[str] | None,
) -> set[str]:
    if battery is None:
        return set()
    if battery_accounts is not None:
        return set(battery_accounts)
    with_battery = Agreement.objects.filter(customer_id__in=ids, meter_point__has_battery=True)
    return {numbers[c] for c in with_battery.values_list("customer_id", flat=True).distinct()}


def _interval_seconds(agreements: list[engine.AgreementInput]) -> int:
    return next(
        (m.interval_seconds for a in agreements for m in a.meters if m.direction == engine.IMPORT), 1800
    )


def _meter_on_grid(meters: list[engine.MeterSeries], grid: np.ndarray) -> np.ndarray:
    values = np.zeros(len(grid), dtype=np.int64)
    for meter in meters:
        position = np.searchsorted(grid, meter.starts)
        inside = (position < len(grid)) & (grid[np.minimum(position, len(grid) - 1)] == meter.starts)
        np.add.at(values, position[inside], meter.kwh_e4[inside])
    return values


def _party(
    number: str, agreements: list[engine.AgreementInput], period_start: date, period_end: date
) -> tuple[p2p.Party, np.ndarray]:
    """The account's import, export and rates per interval of the period (its first agreement's meters)."""
    if len(agreements) != 1:
        raise engine.BillHeld("P2P settles accounts with exactly one agreement in the period")
    agreement = agreements[0]
    zone = agreement.import_versions[0].document.zone if agreement.import_versions else None
    if zone is None:
        raise engine.BillHeld("no import tariff version")
    first = engine._instant(engine._local_midnight(period_start, zone))
    last = engine._instant(engine._local_midnight(period_end, zone))
    imports = [m for m in agreement.meters if m.direction == engine.IMPORT]
    exports = [m for m in agreement.meters if m.direction == engine.EXPORT]
    step = imports[0].interval_seconds if imports else 1800
    grid = np.arange(first.astype(np.int64), last.astype(np.int64), step, dtype=np.int64).astype(
        "datetime64[s]"
    )
    return (
        p2p.Party(
            key=number,
            import_kwh_e4=_meter_on_grid(imports, grid),
            export_kwh_e4=_meter_on_grid(exports, grid),
            retail_micros=_rates(agreement.import_versions, grid),
            export_micros=_rates(agreement.export_versions, grid)
            if agreement.export_versions
            else np.zeros(len(grid), np.int64),
        ),
        grid,
    )


def _rates(versions, grid: np.ndarray) -> np.ndarray:
    """Each interval's unit rate under the version valid at its start (tiered: the first tier)."""
    result = np.zeros(len(grid), dtype=np.int64)
    which = engine._version_index(list(versions), grid)
    for i, version in enumerate(versions):
        mask = which == i
        if not mask.any():
            continue
        try:
            result[mask] = rates.unit_rates(
                version.document,
                grid[mask],
                market=version.market,
                published=version.published,
                events=version.events,
            ).rate_micros
        except (rates.MissingPrice, rates.UnpricedEvent) as exc:
            raise engine.BillHeld(str(exc)) from exc
    return result


def _bill_with_p2p(
    agreements: list[engine.AgreementInput],
    settlement: p2p.Settlement,
    number: str,
    period_start: date,
    period_end: date,
    fee_per_kwh: Decimal,
    *,
    import_less: np.ndarray,
    export_less: np.ndarray,
) -> engine.Bill:
    """The bill from the meters as P2P (and the member's battery) leave them: the first import meter reads
    `import_less` less per interval (bought, and the battery's net effect), the first export meter
    `export_less` less (negative: more, when the battery sells to neighbours; an export meter is added,
    estimated, when the member has none)."""
    agreement = agreements[0]
    bought, sold = settlement.bought_kwh_e4[number], settlement.sold_kwh_e4[number]
    zone = agreement.import_versions[0].document.zone
    first = engine._instant(engine._local_midnight(period_start, zone))
    step = next((m.interval_seconds for m in agreement.meters if m.direction == engine.IMPORT), 1800)
    grid = first + np.arange(len(bought), dtype=np.int64) * np.timedelta64(step, "s")
    meters = []
    used = {engine.IMPORT: False, engine.EXPORT: False}
    for meter in agreement.meters:
        if meter.direction not in used:
            meters.append(meter)  # a generation meter: not billed
            continue
        less = import_less if meter.direction == engine.IMPORT else export_less
        if used[meter.direction] or not less.any():
            used[meter.direction] = True
            meters.append(meter)
            continue
        used[meter.direction] = True
        position = np.searchsorted(grid, meter.starts)
        inside = (position < len(grid)) & (grid[np.minimum(position, len(grid) - 1)] == meter.starts)
        kwh = meter.kwh_e4.copy()
        kwh[inside] -= less[position[inside]]
        meters.append(replace(meter, kwh_e4=kwh))
    if not used[engine.EXPORT] and (export_less < 0).any():
        template = next(m for m in agreement.meters if m.direction == engine.IMPORT)
        meters.append(
            replace(
                template,
                serial=f"{template.serial}-BATTERY",
                direction=engine.EXPORT,
                starts=grid,
                kwh_e4=-export_less,
                estimated=np.ones(len(grid), bool),
            )
        )
    bill = engine.bill_compute(
        agreements=[replace(agreement, meters=meters)], period_start=period_start, period_end=period_end
    )
    version_id = agreement.import_versions[-1].version_id
    extra = []
    for kind, kwh_e4, amount, description in (
        (P2P_PURCHASE, int(bought.sum()), settlement.purchase[number], "P2P purchase from neighbours"),
        (P2P_SALE, int(sold.sum()), settlement.sale[number], "P2P sale to neighbours"),
        (P2P_FEE, int(bought.sum()), settlement.fee[number], "P2P network fee"),
    ):
        if kwh_e4 == 0:
            continue
        extra.append(
            engine.Line(
                kind=kind,
                band="p2p",
                description=description,
                quantity=Decimal(kwh_e4).scaleb(-4).quantize(engine.KWH_PLACES),
                unit="kWh",
                unit_price=fee_per_kwh.quantize(engine.MICRO) if kind == P2P_FEE else None,
                amount=amount,
                version_id=version_id,
                tax_exempt=True,
            )
        )
    added = sum((line.amount for line in extra), Decimal("0.00"))
    return replace(bill, lines=[*bill.lines, *extra], net=bill.net + added, total=bill.total + added)


@dataclass
class P2PInvoicing:
    result: CommunityResult
    invoiced: list[str]
    skipped: dict[str, str]


def p2p_invoices_create(
    *, feeder_code: str, period_start: date, period_end: date, fee_per_kwh: Decimal, now: datetime
) -> P2PInvoicing:
    """Write the community's DRAFT invoices with their P2P settlement lines, in one transaction.

    Run it instead of the bill run for the community's accounts: an account that already has a live
    invoice for the period is skipped (and reported), so running it again changes nothing.
    """
    result = p2p_community_compute(
        feeder_code=feeder_code, period_start=period_start, period_end=period_end, fee_per_kwh=fee_per_kwh
    )
    customers = dict(
        Customer.objects.filter(account_number__in=list(result.with_p2p)).values_list("account_number", "pk")
    )
    with transaction.atomic():
        taken = set(
            Invoice.objects.filter(
                customer_id__in=customers.values(), period_start=period_start, period_end=period_end
            )
            .exclude(status=Invoice.Status.VOID)
            .values_list("customer__account_number", flat=True)
        )
        pairs = [
            (invoice_build(customers[number], bill, period_start, period_end, None, now), bill)
            for number, bill in sorted(result.with_p2p.items())
            if number not in taken
        ]
        invoices_save(
            [invoice for invoice, _ in pairs],
            [bill for _, bill in pairs],
            source={"p2p_community": feeder_code, "fee_per_kwh": str(fee_per_kwh)},
        )
    return P2PInvoicing(
        result=result,
        invoiced=sorted(n for n in result.with_p2p if n not in taken),
        skipped={**dict.fromkeys(taken, "already invoiced for this period"), **result.held},
    )
