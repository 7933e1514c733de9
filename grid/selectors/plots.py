"""Data for the admin's SVG plots (network geography with the latest run's results, scenario day charts)."""

import numpy as np

from grid.calc.plot import day_chart_svg, network_svg
from grid.models import Bus, Line, Network, PowerFlowRun, Scenario, Transformer, Violation


def network_plot_svg(*, network: Network, max_buses: int = 3000) -> str:
    """Buses at their coordinates, lines/transformers coloured by the latest single run's overloads."""
    buses = Bus.objects.filter(network=network, geo_x__isnull=False, geo_y__isnull=False).order_by("index")
    xy = {i: (x, y) for i, x, y in buses.values_list("index", "geo_x", "geo_y")[:max_buses]}
    run = (
        PowerFlowRun.objects.filter(network=network, kind=PowerFlowRun.Kind.SINGLE)
        .order_by("-created_at", "-id")
        .first()
    )
    overloaded: dict[str, float] = {}
    if run is not None:
        for element, value in Violation.objects.filter(run=run, kind=Violation.Kind.OVERLOAD).values_list(
            "element", "value"
        ):
            overloaded[element] = value * 100
    branches = []
    for model, kind, a, b in (
        (Line, "line", "from_bus", "to_bus"),
        (Transformer, "trafo", "hv_bus", "lv_bus"),
    ):
        for index, name, x, y in model.objects.filter(network=network).values_list("index", "name", a, b):
            label = f"{kind}:{name or index}"
            branches.append((x, y, label, overloaded.get(label, 0.0 if run else np.nan)))
    title = f"{network.name}: {len(xy)} buses" + (
        f", run {run.pk}: {run.violation_count} violations (red = overloaded)" if run else ""
    )
    return network_svg(bus_xy=xy, branches=branches, title=title)


def scenario_chart_svg(*, scenario: Scenario) -> str:
    steps = list(scenario.step_results.order_by("interval_start", "id"))
    labels = [s.interval_start.strftime("%H:%M") for s in steps]
    power = day_chart_svg(
        series={"load MW": [s.load_mw for s in steps], "PV MW": [s.pv_mw for s in steps]},
        labels=labels,
        title=f"{scenario.get_kind_display()}: load and PV",
    )
    limits = day_chart_svg(
        series={
            "violations": [float(s.violation_count) for s in steps],
            "max line loading %/100": [(s.max_line_loading_percent or 0.0) / 100 for s in steps],
        },
        labels=labels,
        title="Violations per step and the most loaded line",
    )
    return power + limits
