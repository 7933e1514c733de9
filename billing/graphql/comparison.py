"""GraphQL of tariff comparisons: `tariffComparison` (computed now, for cohorts up to 500 accounts),
`tariffComparisonRunStart` / `tariffComparisonRun` (stored runs with progress, any size). Staff and API
clients with `billing:read` (`billing:write` to start a run); customers are refused."""

from datetime import date
from decimal import Decimal

import strawberry
import strawberry_django
from django.utils import timezone

from billing.models import TariffComparisonRun
from billing.services import comparison as service
from core.api.permissions import ScopeRequired
from core.errors import DomainError


class CohortTooLarge(DomainError):
    code = "cohort_too_large"


@strawberry.input
class TariffComparisonInput:
    tariff_codes: list[str]
    period_start: date
    period_end: date = strawberry.field(description="Exclusive: the period is [periodStart, periodEnd).")
    feeder_code: str | None = None
    tariff_class: str | None = strawberry.field(
        default=None, description="Only accounts whose current import tariff has this code."
    )
    account_numbers: list[str] | None = None
    price_factor: Decimal = Decimal("1")
    pv_share: float = 0.0
    export_tariff_code: str | None = None


@strawberry.type(name="TariffComparisonSummary")
class SummaryType:
    tariff_code: str = strawberry.field(description='"current" for the accounts\' own agreements.')
    accounts: int
    held: int
    total: Decimal
    mean: Decimal | None
    median: Decimal | None
    winners: int
    losers: int
    unchanged: int
    mean_saving: Decimal | None
    bills_cv: float | None
    bills_gini: float | None
    savings_cv: float | None
    savings_gini: float | None
    self_sufficiency: float | None
    self_consumption: float | None


@strawberry.type(name="TariffComparisonBill")
class BillType:
    account_number: str
    tariff_code: str
    total: Decimal | None = strawberry.field(description="Null: the account cannot be billed on it (held).")
    held_reason: str | None


@strawberry.type(name="TariffComparisonProsumer")
class ProsumerType:
    """An account with a PV generation meter: its measured energy over the period."""

    account_number: str
    consumed_kwh: Decimal = strawberry.field(description="Grid import + own PV used at home.")
    generated_kwh: Decimal
    self_consumed_kwh: Decimal
    self_sufficiency: float | None
    self_consumption: float | None


@strawberry.type(name="TariffComparison")
class ComparisonType:
    period_start: date
    period_end: date
    scenario: str
    summaries: list[SummaryType]
    bills: list[BillType]
    prosumers: list[ProsumerType] = strawberry.field(
        default_factory=list, description="Accounts with a PV generation meter (measured self-sufficiency)."
    )


@strawberry.type(name="TariffComparisonRun")
class RunType:
    id: strawberry.ID
    status: str
    progress_done: int
    progress_total: int
    error: str


def _cohort(input: TariffComparisonInput) -> service.Cohort:
    return service.Cohort(
        feeder_code=input.feeder_code or None,
        tariff_code=input.tariff_class or None,
        account_numbers=tuple(input.account_numbers) if input.account_numbers is not None else None,
    )


def _scenario(input: TariffComparisonInput) -> service.Scenario:
    return service.Scenario(
        name="base" if input.price_factor == 1 and not input.pv_share else "scenario",
        price_factor=input.price_factor,
        pv_share=input.pv_share,
        export_tariff_code=input.export_tariff_code or None,
    )


def _result(result: service.ComparisonResult) -> ComparisonType:
    return ComparisonType(
        period_start=result.period_start,
        period_end=result.period_end,
        scenario=result.scenario,
        summaries=[SummaryType(**vars(s)) for s in result.summaries],
        bills=[
            BillType(
                account_number=account,
                tariff_code=code,
                total=total,
                held_reason=result.held.get(account, {}).get(code),
            )
            for account, bills in result.bills.items()
            for code, total in bills.items()
        ],
        prosumers=[
            ProsumerType(
                account_number=account,
                consumed_kwh=Decimal(row["consumed_kwh"]),
                generated_kwh=Decimal(row["generated_kwh"]),
                self_consumed_kwh=Decimal(row["self_consumed_kwh"]),
                self_sufficiency=row["self_sufficiency"],
                self_consumption=row["self_consumption"],
            )
            for account, row in sorted(result.prosumers.items())
        ],
    )


def _run(run: TariffComparisonRun) -> RunType:
    return RunType(
        id=strawberry.ID(str(run.pk)),
        status=run.status,
        progress_done=run.progress_done,
        progress_total=run.progress_total,
        error=run.error,
    )


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("billing:read")])
    def tariff_comparison(self, input: TariffComparisonInput) -> ComparisonType:
        cohort = _cohort(input)
        ids = service.cohort_customer_ids(
            cohort=cohort, period_start=input.period_start, period_end=input.period_end
        )
        if len(ids) > service.SYNC_ACCOUNT_LIMIT:
            raise CohortTooLarge(
                f"The cohort has {len(ids)} accounts; compare at most {service.SYNC_ACCOUNT_LIMIT} here and "
                "start a stored run (tariffComparisonRunStart) for more.",
                field="input",
            )
        return _result(
            service.tariff_comparison_compute(
                tariff_codes=input.tariff_codes,
                period_start=input.period_start,
                period_end=input.period_end,
                scenario=_scenario(input),
                customer_ids=ids,
            )
        )

    @strawberry_django.field(extensions=[ScopeRequired("billing:read")])
    def tariff_comparison_run(self, id: strawberry.ID) -> RunType | None:
        run = TariffComparisonRun.objects.filter(pk=int(id) if str(id).isdigit() else 0).first()
        return _run(run) if run else None


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def tariff_comparison_run_start(self, input: TariffComparisonInput) -> RunType:
        return _run(
            service.tariff_comparison_run_start(
                tariff_codes=input.tariff_codes,
                period_start=input.period_start,
                period_end=input.period_end,
                cohort=_cohort(input),
                scenarios=[_scenario(input)],
                now=timezone.now(),
            )
        )
