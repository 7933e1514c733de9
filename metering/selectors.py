"""Reads of the metering app."""

import numpy as np
from django.db.models import QuerySet

from metering.models import Meter, MeterPoint
from metering.validation import KWH_SCALE, MeterTable

LOAD_ALL_METERS_ABOVE = 2_000


def meter_point_get(*, identifier: str) -> MeterPoint | None:
    return MeterPoint.objects.filter(identifier=identifier).first()


def meter_list(*, meter_point: MeterPoint) -> QuerySet[Meter]:
    return Meter.objects.filter(meter_point=meter_point).order_by("serial")


def meter_ids_for_serials(*, serials) -> dict[str, int]:
    """Map serials to meter ids (unknown serials are absent); one query."""
    serials = list(serials)
    meters = Meter.objects.all()
    if len(serials) <= LOAD_ALL_METERS_ABOVE:
        meters = meters.filter(serial__in=serials)
    return dict(meters.values_list("serial", "id"))


def meter_table(*, meter_ids: np.ndarray) -> MeterTable:
    """The validation facts of the given meters, as arrays sorted by id; one query."""
    meters = Meter.objects.order_by("id")
    if len(meter_ids) <= LOAD_ALL_METERS_ABOVE:
        meters = meters.filter(id__in=[int(i) for i in meter_ids])
    rows = list(
        meters.values_list(
            "id",
            "resolution_minutes",
            "meter_point__timezone",
            "installed_at",
            "removed_at",
            "meter_point__max_power_kw",
            "meter_point_id",
            "meter_point__feeder_code",
            "meter_point__region_code",
        )
    )

    def seconds(values):
        return np.array(
            [np.datetime64(int(v.timestamp()), "s") if v else np.datetime64("NaT") for v in values],
            dtype="datetime64[s]",
        )

    columns = list(zip(*rows, strict=True)) if rows else [[]] * 9
    feeder_codes = sorted(set(zip(columns[7], columns[8], strict=True)))
    feeder_index = {code: i for i, code in enumerate(feeder_codes)}
    return MeterTable(
        ids=np.array(columns[0], dtype="int64"),
        resolution_s=np.array(columns[1], dtype="int64") * 60,
        timezone=np.array(columns[2], dtype=object),
        installed_at=seconds(columns[3]),
        removed_at=seconds(columns[4]),
        max_energy_e4_per_s=np.array([float(p) for p in columns[5]], dtype="float64") / 3600 * KWH_SCALE,
        meter_point_ids=np.array(columns[6], dtype="int64"),
        feeder_index=np.array(
            [feeder_index[pair] for pair in zip(columns[7], columns[8], strict=True)], dtype="int64"
        ),
        feeder_codes=feeder_codes,
    )
