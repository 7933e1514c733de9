"""Reads of storage and balancing."""

from django.db.models import QuerySet

from grid.models import (
    BalancingRun,
    BatteryAsset,
    Line,
    Load,
    ScenarioBalancing,
    ScheduleInterval,
    ScheduleRun,
    Switch,
    Transformer,
)
from grid.optimize.storage_limits import feeder_limits_from_transformers


def battery_asset_list(*, feeder_code: str | None = None) -> QuerySet[BatteryAsset]:
    assets = BatteryAsset.objects.select_related("meter_point")
    if feeder_code is not None:
        assets = assets.filter(meter_point__feeder_code=feeder_code)
    return assets.order_by("code")


def schedule_run_list() -> QuerySet[ScheduleRun]:
    return ScheduleRun.objects.order_by("-created_at", "-id")


def schedule_run_get(*, run_id: int) -> ScheduleRun | None:
    return ScheduleRun.objects.filter(pk=run_id).first()


def schedule_rows(*, run_id: int, asset_code: str) -> QuerySet:
    """One unit's rows of a run as dicts, in time order."""
    return (
        ScheduleInterval.objects.filter(run_id=run_id, asset__code=asset_code)
        .order_by("interval_start")
        .values("interval_start", "charge_kw", "discharge_kw", "soc_kwh", "pv_kw", "load_kw")
    )


def fleet_net_load(*, run_id: int) -> list[dict]:
    """The fleet's summed load − PV (before) and meter flow (after storage) per interval of a run, kW."""
    from django.db.models import F, Sum

    return list(
        ScheduleInterval.objects.filter(run_id=run_id)
        .values("interval_start")
        .annotate(
            before_kw=Sum(F("load_kw") - F("pv_kw")),
            after_kw=Sum(F("load_kw") - F("pv_kw") + F("charge_kw") - F("discharge_kw")),
        )
        .order_by("interval_start")
    )


def balancing_run_list() -> QuerySet[BalancingRun]:
    return BalancingRun.objects.order_by("-created_at", "-id")


def asset_latest_day(*, asset: BatteryAsset) -> list[dict]:
    """The asset's rows in its latest run (charge, discharge, SoC, PV, load), in time order."""
    latest = ScheduleInterval.objects.filter(asset=asset).order_by("-run__created_at", "-run_id").first()
    if latest is None:
        return []
    return list(schedule_rows(run_id=latest.run_id, asset_code=asset.code))


def network_feeder_limits_kw(
    *, feeder_codes: list[str], power_factor: float
) -> dict[str, tuple[float, float]]:
    """{feeder: (import kW, export kW)} for the feeders mapped onto a network (its loads carry the feeder
    code): the feeder's share of its transformers' sn_mva × power factor. A feeder mapped onto several
    networks takes the most recently changed one. Feeders not mapped are absent."""
    mapped = (
        Load.objects.filter(feeder_code__in=feeder_codes)
        .order_by("feeder_code", "-network__updated_at", "-network_id")
        .values_list("feeder_code", "network_id")
    )
    network_of: dict[str, int] = {}
    for code, network_id in mapped:
        network_of.setdefault(code, network_id)
    limits: dict[str, tuple[float, float]] = {}
    for network_id in sorted(set(network_of.values())):
        open_lines = set(
            Switch.objects.filter(network_id=network_id, et="l", closed=False).values_list(
                "element", flat=True
            )
        )
        per_feeder = feeder_limits_from_transformers(
            lines=[
                (a, b)
                for index, a, b in Line.objects.filter(network_id=network_id, in_service=True).values_list(
                    "index", "from_bus", "to_bus"
                )
                if index not in open_lines
            ],
            bus_links=Switch.objects.filter(network_id=network_id, et="b", closed=True).values_list(
                "bus", "element"
            ),
            transformers=Transformer.objects.filter(network_id=network_id, in_service=True).values_list(
                "lv_bus", "sn_mva"
            ),
            loads=Load.objects.filter(network_id=network_id, in_service=True).values_list(
                "bus", "p_mw", "feeder_code"
            ),
            power_factor=power_factor,
        )
        for code, kw in per_feeder.items():
            if network_of.get(code) == network_id:
                limits[code] = (kw, kw)
    return limits


def scenario_balancing_get(*, scenario_id: int) -> ScenarioBalancing | None:
    return ScenarioBalancing.objects.filter(scenario_id=scenario_id).first()
