"""Writes of the meter registry: meter points, the meters installed at them, and their changes."""

import zoneinfo
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.errors import NOT_FOUND, DomainError
from core.periods import check_instant
from metering.models import Direction, HeatingType, Meter, MeterPoint


class UnableToCreateMeterPoint(DomainError, code="meter_point_invalid"): ...


class UnableToInstallMeter(DomainError, code="meter_install_invalid"): ...


class UnableToUpdateMeterPoint(DomainError, code="meter_point_update_invalid"): ...


class UnableToChangeMeter(DomainError, code="meter_change_invalid"): ...


def _check_timezone(name: str, error: type[DomainError] = UnableToCreateMeterPoint) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise error(f"'{name}' is not an IANA time zone.", field="timezone") from None


def _check_point(point: MeterPoint, error: type[DomainError]) -> None:
    """Refuse a meter point whose zone or fields are not valid, naming the first field."""
    _check_timezone(point.timezone, error)
    try:
        point.full_clean(validate_unique=False)
    except ValidationError as exc:
        field_name, errors = next(iter(exc.error_dict.items()))
        raise error(errors[0].messages[0], field=field_name) from exc


@transaction.atomic
def meter_point_create(
    *,
    identifier: str,
    timezone: str = "Europe/London",
    feeder_code: str = "",
    region_code: str = "",
    heating_type: str = HeatingType.GAS,
    residents: int = 2,
    has_pv: bool = False,
    has_battery: bool = False,
    max_power_kw: Decimal = Decimal(100),
) -> MeterPoint:
    """Create a meter point; the same request again returns it unchanged (whatever its capacity, which
    staff may have set since)."""
    identifier = identifier.strip()
    if not identifier:
        raise UnableToCreateMeterPoint("A meter point needs an identifier.", field="identifier")
    wanted = {
        "timezone": timezone,
        "feeder_code": feeder_code,
        "region_code": region_code,
        "heating_type": heating_type,
        "residents": residents,
        "has_pv": has_pv,
        "has_battery": has_battery,
    }
    point = MeterPoint(identifier=identifier, max_power_kw=max_power_kw, **wanted)
    _check_point(point, UnableToCreateMeterPoint)
    existing = MeterPoint.objects.filter(identifier=identifier).first()
    if existing is not None:
        if all(getattr(existing, k) == v for k, v in wanted.items()):
            return existing
        raise UnableToCreateMeterPoint(
            f"Meter point {identifier} exists with other attributes.",
            field="identifier",
            code="meter_point_exists",
        )
    point.save()
    return point


@transaction.atomic
def meter_point_update(
    *,
    identifier: str,
    timezone: str,
    feeder_code: str,
    region_code: str,
    heating_type: str,
    residents: int,
    has_pv: bool,
    has_battery: bool,
    max_power_kw: Decimal,
) -> MeterPoint:
    """Set the attributes of the meter point `identifier` (its identifier stays); audited."""
    point = MeterPoint.objects.select_for_update().filter(identifier=identifier).first()
    if point is None:
        raise UnableToUpdateMeterPoint(f"No meter point '{identifier}'.", field="identifier", code=NOT_FOUND)
    wanted = {
        "timezone": timezone,
        "feeder_code": feeder_code,
        "region_code": region_code,
        "heating_type": heating_type,
        "residents": residents,
        "has_pv": has_pv,
        "has_battery": has_battery,
        "max_power_kw": max_power_kw,
    }
    changed = {k: v for k, v in wanted.items() if getattr(point, k) != v}
    for attribute, value in changed.items():
        setattr(point, attribute, value)
    _check_point(point, UnableToUpdateMeterPoint)
    if changed:
        point.save(update_fields=list(changed))
    return point


@transaction.atomic
def meter_install(
    *,
    meter_point_identifier: str,
    serial: str,
    direction: str = Direction.IMPORT,
    installed_at: datetime,
    resolution_minutes: int = 30,
) -> Meter:
    """Install a meter at a meter point; installing the same meter again returns it."""
    point = MeterPoint.objects.filter(identifier=meter_point_identifier).first()
    if point is None:
        raise UnableToInstallMeter(
            f"No meter point '{meter_point_identifier}'.", field="meter_point_identifier", code=NOT_FOUND
        )
    if direction not in Direction.values:
        raise UnableToInstallMeter(
            f"Direction must be IMPORT, EXPORT or GEN (PV generation), not '{direction}'.", field="direction"
        )
    if resolution_minutes not in (5, 10, 15, 30, 60):
        raise UnableToInstallMeter(
            "Resolution must be 5, 10, 15, 30 or 60 minutes.", field="resolution_minutes"
        )
    serial = serial.strip()
    if not serial:
        raise UnableToInstallMeter("A meter needs a serial.", field="serial")
    existing = Meter.objects.filter(serial=serial).first()
    if existing is not None:
        if existing.meter_point_id == point.pk and existing.direction == direction:
            return existing
        raise UnableToInstallMeter(
            f"Meter {serial} is installed elsewhere.", field="serial", code="meter_exists"
        )
    return Meter.objects.create(
        meter_point=point,
        serial=serial,
        direction=direction,
        installed_at=installed_at,
        resolution_minutes=resolution_minutes,
    )


@transaction.atomic
def meter_period_set(*, serial: str, installed_at: datetime, removed_at: datetime | None) -> Meter:
    """Set when the meter `serial` was installed and removed (`None`: still in place); audited.

    Its meter point, direction and resolution stay: they say what its stored readings mean."""
    meter = Meter.objects.select_for_update().filter(serial=serial).first()
    if meter is None:
        raise UnableToChangeMeter(f"No meter '{serial}'.", field="serial", code=NOT_FOUND)
    check_instant(installed_at, field="installed_at", error=UnableToChangeMeter)
    if removed_at is not None:
        check_instant(removed_at, field="removed_at", error=UnableToChangeMeter)
        if removed_at <= installed_at:
            raise UnableToChangeMeter("A meter is removed after it is installed.", field="removed_at")
    changed = {
        k: v
        for k, v in (("installed_at", installed_at), ("removed_at", removed_at))
        if getattr(meter, k) != v
    }
    for attribute, value in changed.items():
        setattr(meter, attribute, value)
    if changed:
        meter.save(update_fields=list(changed))
    return meter


@transaction.atomic
def meters_ensure(
    *,
    serials: list[str],
    timezone: str,
    installed_at: datetime,
    feeder_code: str = "",
    region_code: str = "",
    resolution_minutes: int = 30,
) -> int:
    """Create a meter point and an import meter (same identifier) for each serial that has none."""
    _check_timezone(timezone)
    missing = sorted(
        set(serials) - set(Meter.objects.filter(serial__in=serials).values_list("serial", flat=True))
    )
    if not missing:
        return 0
    points = {
        p.identifier: p
        for p in audit.bulk_create_audited(
            MeterPoint,
            [
                MeterPoint(identifier=s, timezone=timezone, feeder_code=feeder_code, region_code=region_code)
                for s in missing
                if not MeterPoint.objects.filter(identifier=s).exists()
            ],
            batch_size=5000,
        )
    }
    points.update({p.identifier: p for p in MeterPoint.objects.filter(identifier__in=missing)})
    audit.bulk_create_audited(
        Meter,
        [
            Meter(
                meter_point=points[s],
                serial=s,
                installed_at=installed_at,
                resolution_minutes=resolution_minutes,
            )
            for s in missing
        ],
        batch_size=5000,
    )
    return len(missing)
