"""Network tables round trip, limit checks and shedding plans on a small synthetic LV network."""

import copy

import numpy as np
import pandapower as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grid.calc.powerflow import PowerFlowModel
from grid.calc.shedding import Tree, greedy_plan, shedding_plan
from grid.calc.tables import NetworkDataError, net_to_tables, tables_to_net
from tests.factories.grid import small_net


@pytest.fixture(scope="module")
def net():
    return small_net()


@pytest.fixture(scope="module")
def model(net):
    return PowerFlowModel(copy.deepcopy(net))


def independent_violations(net, shed_names, *, load_scale, band=(0.95, 1.05)):
    """A fresh net, the shed loads removed, pandapower's runpp and the limits checked here from scratch."""
    fresh = copy.deepcopy(net)
    fresh.load["p_mw"] *= load_scale
    fresh.load["q_mvar"] *= load_scale
    fresh.sgen["p_mw"] = 0.0
    fresh.sgen["q_mvar"] = 0.0
    fresh.load.loc[fresh.load["name"].isin(shed_names), "in_service"] = False
    pp.runpp(fresh)
    vm = fresh.res_bus["vm_pu"]
    low = fresh.bus["min_vm_pu"].fillna(band[0])
    high = fresh.bus["max_vm_pu"].fillna(band[1])
    bad = int(((vm < low - 1e-9) | (vm > high + 1e-9)).sum())
    bad += int(
        (fresh.res_line["loading_percent"] > fresh.line["max_loading_percent"].fillna(100) + 1e-9).sum()
    )
    bad += int(
        (fresh.res_trafo["loading_percent"] > fresh.trafo["max_loading_percent"].fillna(100) + 1e-9).sum()
    )
    return bad


def test_tables_round_trip_gives_the_same_power_flow(net):
    original = copy.deepcopy(net)
    pp.runpp(original)
    rebuilt = tables_to_net(net_to_tables(original), f_hz=original.f_hz, sn_mva=original.sn_mva)
    pp.runpp(rebuilt)

    assert np.allclose(original.res_bus["vm_pu"].to_numpy(), rebuilt.res_bus["vm_pu"].to_numpy())
    assert list(rebuilt.load["name"]) == list(original.load["name"])


def test_a_load_on_a_missing_bus_is_named(net):
    broken = copy.deepcopy(net)
    broken.load.loc[broken.load.index[0], "bus"] = 999

    with pytest.raises(NetworkDataError, match=r"load 0 \('load A1'\): bus 999 is not a bus"):
        net_to_tables(broken)


def test_overload_is_reported_as_a_fraction_of_its_limit(model):
    result = model.run(load_scale=3.0, sgen_scale=0.0)

    assert result.converged
    overload = next(v for v in result.violations if v.element == "trafo:T1")
    assert overload.kind == "overload"
    assert overload.limit == pytest.approx(1.0)
    assert overload.value > 1.0


def test_plan_clears_violations_verified_by_an_independent_power_flow(net, model):
    priority = np.full(len(net.load), 3)
    priority[:3] = 0

    plan = shedding_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)

    assert plan.feasible
    assert plan.violations_before
    assert not plan.violations_after
    shed_names = list(model.load_names[plan.shed])
    assert independent_violations(net, shed_names, load_scale=4.0) == 0
    assert plan.power_flows <= 2 + 2 * int(np.ceil(np.log2(len(net.load)))) + 4


def test_plan_sheds_no_more_than_greedy_by_much(model, net):
    priority = 1 + np.arange(len(net.load)) % 4

    plan = shedding_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)
    greedy = greedy_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)

    assert greedy.feasible
    assert plan.feasible
    assert plan.shed_mw <= 1.2 * greedy.shed_mw + 1e-9


def test_without_a_plan_that_spares_critical_loads_it_says_so_and_sheds_none_of_them(model, net):
    priority = np.zeros(len(net.load), dtype=int)

    plan = shedding_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)

    assert not plan.feasible
    assert "critical" in plan.message
    assert not plan.shed.any()
    assert plan.critical_shed == 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    priorities=st.lists(st.integers(min_value=0, max_value=4), min_size=12, max_size=12),
    scale=st.floats(min_value=1.5, max_value=5.0),
)
def test_critical_loads_are_never_shed(model, priorities, scale):
    priority = np.array(priorities)

    plan = shedding_plan(model, priority=priority, load_scale=scale, sgen_scale=0.0)

    assert not (plan.shed & (priority == 0)).any()
    assert plan.critical_shed == 0
    if plan.feasible:
        assert not [v for v in plan.violations_after if v.kind != "overvoltage"]


def test_greedy_in_batches_stops_at_the_same_load_as_one_at_a_time(model, net):
    priority = 1 + np.arange(len(net.load)) % 4

    one = greedy_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0, batch=1)
    batched = greedy_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0, batch=5)

    assert one.feasible
    assert batched.feasible
    assert list(model.load_names[batched.shed]) == list(model.load_names[one.shed])
    assert batched.power_flows < one.power_flows
    assert independent_violations(net, list(model.load_names[batched.shed]), load_scale=4.0) == 0


def test_greedy_sheds_one_load_per_power_flow(model, net):
    priority = np.full(len(net.load), 3)

    greedy = greedy_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)

    assert greedy.feasible
    assert greedy.power_flows == 1 + int(greedy.shed.sum())


def test_plan_restores_per_transformer_and_sheds_no_more_than_the_greedy_here(model, net):
    priority = np.full(len(net.load), 3)

    plan = shedding_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)
    greedy = greedy_plan(model, priority=priority, load_scale=4.0, sgen_scale=0.0)

    assert plan.feasible
    assert plan.shed_mw <= greedy.shed_mw + 1e-9


def test_a_bus_that_shedding_pushes_over_its_limit_is_reported_with_why(net):
    tight = copy.deepcopy(net)
    tight.bus.loc[tight.bus["name"] == "A1", "max_vm_pu"] = 0.98  # 0.908 pu at 4x load, 0.989 once A3-A6 shed
    model = PowerFlowModel(copy.deepcopy(tight))

    plan = shedding_plan(model, priority=np.full(len(tight.load), 3), load_scale=4.0, sgen_scale=0.0)

    assert plan.feasible
    assert [(v.element, v.kind) for v in plan.violations_after] == [("bus:A1", "overvoltage")]
    assert not [v for v in plan.violations_before if v.kind == "overvoltage"]
    assert "go above their voltage limit once their loads are shed" in plan.message
    shed_names = list(model.load_names[plan.shed])
    assert independent_violations(tight, shed_names, load_scale=4.0) == 1


def test_the_tree_has_the_depths_of_pandapowers_topology_graph(net):
    import networkx as nx
    import pandapower.topology as top

    opened = copy.deepcopy(net)
    opened.switch.loc[opened.switch["name"] == "S-B1", "closed"] = False  # feeder B cut off

    tree = Tree(opened)

    graph = top.create_nxgraph(opened, respect_switches=True, include_out_of_service=False)
    depths = nx.single_source_shortest_path_length(graph, int(opened.ext_grid["bus"].iloc[0]))
    assert {b: int(tree.depth[tree.position[b]]) for b in depths} == depths
    unreached = set(opened.bus.index) - set(depths)
    assert len(unreached) == 6
    assert all(tree.depth[tree.position[b]] == -1 for b in unreached)
