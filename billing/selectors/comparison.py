"""Reads of stored tariff comparison runs."""

from billing.models import TariffComparisonRun


def tariff_comparison_run_get(*, run_id: str) -> TariffComparisonRun | None:
    """The run with this id (an id that is not a number names none)."""
    return TariffComparisonRun.objects.filter(pk=int(run_id) if run_id.isdigit() else 0).first()
