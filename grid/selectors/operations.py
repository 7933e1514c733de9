from django.db.models import QuerySet

from grid.models import Network, PowerFlowRun, Scenario, SheddingPlan, Violation


def power_flow_run_list(*, network: Network | None = None) -> QuerySet[PowerFlowRun]:
    runs = PowerFlowRun.objects.all()
    if network is not None:
        runs = runs.filter(network=network)
    return runs.order_by("-created_at", "-id")


def violation_list(*, run: PowerFlowRun) -> QuerySet[Violation]:
    return Violation.objects.filter(run=run).order_by("interval_start", "contingency", "element", "id")


def shedding_plan_list(
    *, network: Network | None = None, status: str | None = None
) -> QuerySet[SheddingPlan]:
    plans = SheddingPlan.objects.all()
    if network is not None:
        plans = plans.filter(network=network)
    if status:  # the API's lower-case name or the stored value
        plans = plans.filter(status=str(status).upper())
    return plans.order_by("-created_at", "-id")


def scenario_list(*, network: Network | None = None) -> QuerySet[Scenario]:
    scenarios = Scenario.objects.all()
    if network is not None:
        scenarios = scenarios.filter(network=network)
    return scenarios.order_by("-created_at", "-id")
