"""The demo's metering steps: a fleet of simulated meters, and VEE over the households of one feeder."""

from datetime import datetime

from metering.models import Meter, Source
from metering.services.readings import readings_ingest
from metering.services.simulation import simulated_days, simulated_fleet_ensure
from metering.services.vee import VeeReport, vee_run


def demo_fleet_simulate(
    *, count: int, start: datetime, days: int, now: datetime, prefix: str = "DEMO-SIM"
) -> None:
    """Create (or reuse) `count` simulated meters on four feeders of one region and ingest `days` of their
    half-hourly readings from `start`; a second run finds every reading already there."""
    fleet = simulated_fleet_ensure(count=count, prefix=prefix, feeders=4, regions=1)
    for readings in simulated_days(fleet=fleet, start=start, days=days):
        readings_ingest(readings=readings, source=Source.SIMULATOR, now=now)


def demo_feeder_vee_run(*, feeder_code: str, period_start: datetime, period_end: datetime) -> VeeReport:
    """VEE over the meters of one feeder for `[period_start, period_end)`, judged as of `period_end`."""
    meter_ids = Meter.objects.filter(meter_point__feeder_code=feeder_code).values_list("id", flat=True)
    return vee_run(
        period_start=period_start, period_end=period_end, as_of=period_end, meter_ids=list(meter_ids)
    )
