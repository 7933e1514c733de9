"""N-1 on a hand-built 20 kV network: a ring of two parallel paths feeding a load bus, and a radial spur.

Intact, each ring path carries half of the 4 MW load (about 0.06 kA of its 0.09 kA rating, 65 %); with one
path out the other carries all of it (about 130 %): a known overload. The spur's outage islands its own load
and is screened by connectivity; the screened outcome is the exact one."""

import copy

import numpy as np
import pandapower as pp
import pytest

from grid.calc.contingency import n_minus_1
from grid.calc.powerflow import PowerFlowModel
from tests.factories.grid import ring_net

LABELS = ["line:ring-a", "line:ring-b", "line:spur"]


def test_intact_ring_is_within_limits_and_losing_one_path_overloads_the_other():
    model = PowerFlowModel(ring_net())

    study = n_minus_1(model, LABELS)

    assert study.base.converged
    assert not study.base.violations
    by_label = {c.label: c for c in study.contingencies}
    a_out = by_label["line:ring-a"]
    assert a_out.method == "exact"  # a ring path's outage splits nothing: a full power flow
    assert [(v.element, v.kind) for v in a_out.result.violations] == [("line:ring-b", "overload")]
    overload = a_out.result.violations[0]
    intact_b = study.base.line_loading_percent[1] / 100
    assert overload.value == pytest.approx(2 * intact_b, rel=0.05)
    assert overload.value > 1.0
    assert overload.limit == pytest.approx(1.0)
    assert [(v.element, v.kind) for v in by_label["line:ring-b"].result.violations] == [
        ("line:ring-a", "overload")
    ]


def test_a_spur_outage_is_screened_islands_its_bus_and_matches_the_exact_run():
    screened = n_minus_1(PowerFlowModel(ring_net()), LABELS)
    exact = n_minus_1(PowerFlowModel(ring_net()), LABELS, screen=False)

    spur = screened.contingencies[2]
    assert spur.method == "screened"
    assert spur.islanded_buses == 1
    assert screened.screened_runs == 1
    assert screened.exact_runs == 2
    assert exact.exact_runs == 3
    assert exact.screened_runs == 0
    assert not spur.result.violations
    assert np.isnan(spur.result.vm_pu[2])
    exact_spur = exact.contingencies[2].result
    assert np.allclose(spur.result.vm_pu[:2], exact_spur.vm_pu[:2], atol=2e-4)
    assert np.allclose(spur.result.line_loading_percent[:2], exact_spur.line_loading_percent[:2], atol=0.5)
    for a, b in zip(screened.contingencies, exact.contingencies, strict=True):
        assert [(v.element, v.kind) for v in a.result.violations] == [
            (v.element, v.kind) for v in b.result.violations
        ]


def test_a_screened_outage_with_a_new_violation_is_verified_exactly():
    net = ring_net()
    net.load.loc[1, ["p_mw", "q_mvar"]] = 0.0
    pp.create_sgen(net, 2, p_mw=1.5, name="spur PV")  # the spur exports: losing it loads the ring more
    net.load.loc[0, "p_mw"] = 4.0
    net.line.loc[[0, 1], "max_i_ka"] = 0.05
    model = PowerFlowModel(net)

    study = n_minus_1(model, ["line:spur"])

    assert study.base.converged
    assert not study.base.violations
    spur = study.contingencies[0]
    assert spur.method == "exact"
    assert {v.element for v in spur.result.violations} == {"line:ring-a", "line:ring-b"}


def test_recycled_runs_give_pandapowers_full_results():
    net = ring_net()
    model = PowerFlowModel(copy.deepcopy(net))
    model.run()
    shed = np.array([False, True])

    fast = model.run(load_scale=1.3, shed=shed)
    assert model.recycled == 1

    fresh = copy.deepcopy(net)
    fresh.load["p_mw"] *= 1.3
    fresh.load["q_mvar"] *= 1.3
    fresh.load.loc[1, "in_service"] = False
    pp.runpp(fresh)
    assert np.allclose(fast.vm_pu, fresh.res_bus["vm_pu"].to_numpy(), atol=1e-8)
    assert np.allclose(fast.line_loading_percent, fresh.res_line["loading_percent"].to_numpy(), atol=1e-6)
