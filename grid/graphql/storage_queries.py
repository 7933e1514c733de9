"""GraphQL queries of storage and balancing (scope grid:read; staff sessions pass, customers do not)."""

import datetime as dt

import strawberry
import strawberry_django

from core.api.errors import api_error, not_found
from core.api.permissions import ScopeRequired
from core.errors import BAD_USER_INPUT
from grid.graphql.storage_types import (
    BalancingRunType,
    BatteryAssetType,
    FeederWhatIfType,
    PriceSignalWhatIfType,
    ScenarioBalancingType,
    ScheduleRunType,
)
from grid.selectors.storage import (
    balancing_run_list,
    battery_asset_list,
    scenario_balancing_get,
    schedule_run_get,
    schedule_run_list,
)
from grid.services import balancing as balancing_services

MAX_LIST = 100


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIST:
        raise api_error(f"limit must be between 1 and {MAX_LIST}.", BAD_USER_INPUT, field="limit")
    return limit


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def battery_assets(self, feeder_code: str | None = None) -> list[BatteryAssetType]:
        """Battery assets behind meter points, by code."""
        return battery_asset_list(feeder_code=feeder_code)  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def schedule_runs(self, limit: int = 20) -> list[ScheduleRunType]:
        """The latest schedule runs, newest first."""
        return schedule_run_list()[: _limit(limit)]  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def schedule_run(self, id: strawberry.ID) -> ScheduleRunType | None:
        run = schedule_run_get(run_id=int(id)) if id.isdigit() else None
        if run is None:
            raise not_found(f"No schedule run {id}.", field="id")
        return run  # type: ignore[return-value]

    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def price_signal_what_if(
        self, day: dt.date, bands: list[str], feeder_codes: list[str] | None = None
    ) -> PriceSignalWhatIfType:
        """Predicted load per feeder if `bands` (Low/Normal/High per local half hour) were announced."""
        try:
            result = balancing_services.price_signal_what_if(day=day, bands=bands, feeder_codes=feeder_codes)
        except balancing_services.UnableToBalance as exc:
            raise api_error(exc.messages[0], BAD_USER_INPUT, field=exc.field) from exc
        before, after = result.peak_before_kw, result.peak_after_kw
        return PriceSignalWhatIfType(
            interval_starts=result.starts,
            bands=result.bands,
            peak_before_kw=before,
            peak_after_kw=after,
            peak_change_pct=round(100 * (after - before) / before, 2) if before else 0.0,
            feeders=[
                FeederWhatIfType(
                    feeder_code=code,
                    limit_kw=outcome.limit_kw,
                    peak_before_kw=outcome.peak_before_kw,
                    peak_after_kw=outcome.peak_after_kw,
                    load_before_kw=[round(float(v), 4) for v in outcome.before_kw],
                    load_after_kw=[round(float(v), 4) for v in outcome.after_kw],
                )
                for code, outcome in result.feeders.items()
            ],
        )

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def balancing_runs(self, limit: int = 20) -> list[BalancingRunType]:
        return balancing_run_list()[: _limit(limit)]  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def scenario_balancing(self, scenario_id: strawberry.ID) -> ScenarioBalancingType | None:
        """What price balancing and the batteries would do in a scenario, next to its shedding plan."""
        found = scenario_balancing_get(scenario_id=int(scenario_id)) if scenario_id.isdigit() else None
        return found  # type: ignore[return-value]
