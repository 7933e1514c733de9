"""GraphQL mutations of storage and balancing (scope grid:write)."""

import strawberry
from django.utils import timezone

from core.api.permissions import ScopeRequired
from grid import models
from grid.graphql.storage_inputs import (
    BalancingRunCreateInput,
    BatteryAssetUpsertInput,
    FeederLimitSetInput,
    StorageScheduleRunInput,
)
from grid.graphql.storage_types import BalancingRunType, BatteryAssetType, FeederLimitType, ScheduleRunType
from grid.services import balancing as balancing_services
from grid.services import storage as storage_services


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def battery_asset_upsert(self, input: BatteryAssetUpsertInput) -> BatteryAssetType:
        """Create or change a battery behind a meter point."""
        values = {k: v for k, v in vars(input).items() if k not in ("code", "meter_point_identifier")}
        return storage_services.battery_asset_upsert(  # type: ignore[return-value]
            code=input.code, meter_point_identifier=input.meter_point_identifier, **values
        )

    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def feeder_limit_set(self, input: FeederLimitSetInput) -> FeederLimitType:
        return storage_services.feeder_limit_set(**vars(input))  # type: ignore[return-value]

    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def storage_schedule_run(self, input: StorageScheduleRunInput) -> ScheduleRunType:
        """Schedule the active fleet over [periodStart, periodEnd) against the tariff's rates (idempotent)."""
        return storage_services.storage_schedule_run(  # type: ignore[return-value]
            **vars(input), kind=models.ScheduleRun.Kind.WHAT_IF, now=timezone.now()
        )

    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def balancing_run_create(self, input: BalancingRunCreateInput) -> BalancingRunType:
        """Choose the day's bands for the feeders' limits; `publish` announces them via the ledger."""
        return balancing_services.balancing_run(**vars(input), now=timezone.now())  # type: ignore[return-value]
