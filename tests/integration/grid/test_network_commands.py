"""grid_import, grid_powerflow, grid_shed on a small network; topology as of a date; exports."""

import datetime as dt
import io
import json

import pandapower as pp
import pytest
from django.core.management import CommandError, call_command

from grid.models import Bus, Load, Network, PowerFlowRun, SheddingPlan
from grid.services.network import (
    network_cache_clear,
    network_export_pandapower_json,
    network_geojson,
    network_model,
)
from grid.services.topology import topology_event_record
from tests.factories.grid import small_net

pytestmark = pytest.mark.django_db
CODE = "1-LV-rural1--0-sw"  # the smallest SimBench network (bundled data)


@pytest.fixture(autouse=True)
def _fresh_cache():
    network_cache_clear()
    yield
    network_cache_clear()


@pytest.fixture
def small_json(tmp_path):
    path = tmp_path / "small.json"
    pp.to_json(small_net(), str(path))
    return path


@pytest.fixture
def network(small_json):
    call_command(
        "grid_import",
        "--pandapower-json",
        str(small_json),
        "--name",
        "rural",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return Network.objects.get(name="rural")


def run_json(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_import_stores_every_element_and_is_idempotent(network, small_json):
    call_command(
        "grid_import",
        "--pandapower-json",
        str(small_json),
        "--name",
        "rural",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert Network.objects.count() == 1
    assert Bus.objects.filter(network=network).count() == 14
    assert Load.objects.filter(network=network).count() == 12
    assert Bus.objects.filter(network=network, min_vm_pu=0.9).count() == 13


def test_simbench_import_by_code():
    call_command(
        "grid_import", "--simbench", CODE, "--name", "simbench", stdout=io.StringIO(), stderr=io.StringIO()
    )

    network = Network.objects.get(name="simbench")
    assert (network.source, network.source_reference) == ("SIMBENCH", CODE)
    assert Bus.objects.filter(network=network).count() == 15
    assert run_json("grid_powerflow", "simbench")["converged"] is True


def test_an_unknown_simbench_code_is_refused():
    with pytest.raises(CommandError, match="--simbench nope: not a SimBench code"):
        call_command("grid_import", "--simbench", "nope", "--name", "x", stdout=io.StringIO())


def test_import_of_a_bad_file_names_it_and_writes_nothing(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")

    with pytest.raises(CommandError, match=r"broken.json: not a pandapower JSON network"):
        call_command("grid_import", "--pandapower-json", str(bad), "--name", "x", stdout=io.StringIO())
    assert not Network.objects.exists()


def test_pandapower_json_round_trip_and_geojson(network, tmp_path):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    path = tmp_path / "rural.json"
    path.write_text(network_export_pandapower_json(network=network, as_of=now))
    call_command(
        "grid_import",
        "--pandapower-json",
        str(path),
        "--name",
        "copy",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    first = run_json("grid_powerflow", "rural")
    second = run_json("grid_powerflow", "copy")
    assert first["min_vm_pu"] == pytest.approx(second["min_vm_pu"])
    geo = network_geojson(network=network)
    assert {f["geometry"]["type"] for f in geo["features"]} == {"Point", "LineString"}


def test_powerflow_json_has_exactly_the_contract_keys_and_stores_the_run(network):
    payload = run_json("grid_powerflow", "rural", "--load-scale", "3", "--sgen-scale", "0")

    assert set(payload) == {
        "converged",
        "buses",
        "seconds",
        "violations",
        "min_vm_pu",
        "max_vm_pu",
        "max_line_loading_percent",
    }
    assert payload["converged"] is True
    assert payload["buses"] == 14
    overload = next(v for v in payload["violations"] if v["element"] == "trafo:T1")
    assert overload["kind"] == "overload"
    assert overload["limit"] == 1.0
    assert overload["value"] > 1.0
    assert {
        "element": "bus:A6",
        "kind": "undervoltage",
        "value": overload and pytest.approx(payload["min_vm_pu"]),
        "limit": 0.9,
    } in payload["violations"]
    run = PowerFlowRun.objects.get()
    assert run.violation_count == len(payload["violations"])


def test_out_of_service_takes_a_line_out_and_an_unknown_one_is_refused(network):
    intact = run_json("grid_powerflow", "rural")
    cut = run_json("grid_powerflow", "rural", "--out-of-service", "line:LA1")

    assert (
        cut["min_vm_pu"] != intact["min_vm_pu"]
        or cut["max_line_loading_percent"] != intact["max_line_loading_percent"]
    )
    with pytest.raises(CommandError, match=r"line:nope: no such line or transformer"):
        call_command("grid_powerflow", "rural", "--out-of-service", "line:nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="use line:NAME or trafo:NAME"):
        call_command("grid_powerflow", "rural", "--out-of-service", "bus:1", stdout=io.StringIO())


def test_shed_json_keeps_the_contract_and_never_sheds_listed_critical_loads(network, tmp_path):
    priorities = tmp_path / "priorities.csv"
    priorities.write_text("load,priority\nload A6,0\nload A5,0\nload B1,5\n")

    payload = run_json(
        "grid_shed", "rural", "--load-scale", "3", "--sgen-scale", "0", "--priorities", str(priorities)
    )

    assert {
        "violations_before",
        "violations_after",
        "shed",
        "shed_mw",
        "critical_shed",
        "power_flows",
        "seconds",
    } <= set(payload)
    assert payload["violations_before"] > 0
    assert payload["violations_after"] == 0
    shed = {row["load"] for row in payload["shed"]}
    assert not shed & {"load A6", "load A5"}
    assert "load B1" in shed  # priority 5 goes first
    assert payload["critical_shed"] == 0
    assert payload["shed_mw"] == pytest.approx(sum(row["p_mw"] for row in payload["shed"]), abs=1e-5)
    assert SheddingPlan.objects.get().loads.count() == len(shed)


def test_a_bad_priorities_file_names_line_and_column_and_stores_no_plan(network, tmp_path):
    priorities = tmp_path / "priorities.csv"
    priorities.write_text("load,priority\nload A1,0\nload A2,high\n")

    with pytest.raises(
        CommandError, match=r"priorities.csv:3: column priority: 'high' is not a whole number"
    ):
        call_command("grid_shed", "rural", "--priorities", str(priorities), stdout=io.StringIO())
    assert not SheddingPlan.objects.exists()


def test_topology_as_of_a_date_applies_only_the_events_in_effect(network):
    jan = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    feb = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
    topology_event_record(network=network, element="line:LA1", action="out_of_service", effective_at=feb)

    before = network_model(network=network, as_of=jan).model.net
    after = network_model(network=network, as_of=feb + dt.timedelta(hours=1)).model.net

    line = before.line.index[before.line["name"] == "LA1"][0]
    assert bool(before.line.at[line, "in_service"]) is True
    assert bool(after.line.at[line, "in_service"]) is False
    pp.runpp(after)


def test_matpower_case_is_imported_with_bus_numbers_as_names(tmp_path):
    import pandapower.networks as pn
    from pandapower.converter.matpower import to_mpc

    path = tmp_path / "case9.mat"
    case = pn.case9()
    pp.runpp(case)  # to_mpc writes from a solved net
    to_mpc(case, str(path))

    call_command(
        "grid_import", "--matpower", str(path), "--name", "case9", stdout=io.StringIO(), stderr=io.StringIO()
    )

    network = Network.objects.get(name="case9")
    assert network.source == "MATPOWER"
    assert Bus.objects.filter(network=network).count() == 9
    payload = run_json("grid_powerflow", "case9")
    assert payload["converged"] is True
    assert payload["buses"] == 9
