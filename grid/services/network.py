"""Networks in the database: import (SimBench, pandapower JSON, MATPOWER), rebuild as of an instant, export.

Element tables are written with one bulk insert each and read back as arrays; the pandapower net built from
them is cached per process, keyed by network, its revision and the topology events in effect, so a run over
many steps builds it once.
"""

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

from core.audit import log_entries_create
from core.errors import NOT_FOUND, DomainError
from grid.calc.powerflow import PowerFlowModel
from grid.calc.tables import COLUMNS, NetworkDataError, net_to_tables, tables_to_net
from grid.models import ELEMENT_MODELS, Bus, Line, Network, TopologyEvent, Transformer

MODELS = ELEMENT_MODELS
BATCH_SIZE = 5000
CACHE_SIZE = 4


class NetworkImportError(DomainError, code="NETWORK_IMPORT_INVALID"): ...


class NetworkNotFound(DomainError, code=NOT_FOUND): ...


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _read_source(
    *, simbench_code: str | None, pandapower_json: str | None, matpower: str | None
) -> tuple[Any, str, str]:
    import pandapower as pp

    if simbench_code:
        import simbench as sb

        try:
            return sb.get_simbench_net(simbench_code), Network.Source.SIMBENCH, simbench_code
        except Exception as error:
            raise NetworkImportError(
                f"--simbench {simbench_code}: not a SimBench code ({error})", field="simbench"
            ) from error
    path = pandapower_json or matpower
    if not path:
        raise NetworkImportError("give one of --simbench, --pandapower-json, --matpower", field="source")
    if not Path(path).is_file():
        raise NetworkImportError(f"{path}: no such file", field="file")
    if pandapower_json:
        try:
            return pp.from_json(path), Network.Source.PANDAPOWER, Path(path).name
        except Exception as error:
            raise NetworkImportError(
                f"{path}: not a pandapower JSON network ({_first_line(error)})",
                field="file",
            ) from error
    from pandapower.converter.matpower import from_mpc

    if Path(path).suffix not in (".m", ".mat"):
        raise NetworkImportError(f"{path}: a MATPOWER case must end in .m or .mat", field="file")
    try:
        return from_mpc(path), Network.Source.MATPOWER, Path(path).name
    except Exception as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise NetworkImportError(f"{path}: not a MATPOWER case ({first})", field="file") from error


@transaction.atomic
def network_import(
    *,
    name: str,
    simbench_code: str | None = None,
    pandapower_json: str | None = None,
    matpower: str | None = None,
    net: Any = None,
) -> tuple[Network, bool]:
    """Store a network under `name`; returns (network, created). Importing the same source under the same
    name again changes nothing; a different source under an existing name is refused."""
    name = name.strip()
    if not name:
        raise NetworkImportError("--name: a network needs a name", field="name")
    if net is None and simbench_code:
        existing = Network.objects.filter(name=name.strip()).first()
        if existing is not None and (existing.source, existing.source_reference) == (
            Network.Source.SIMBENCH,
            simbench_code,
        ):
            return existing, False  # already imported: no need to read the source again
    if net is None:
        net, source, reference = _read_source(
            simbench_code=simbench_code, pandapower_json=pandapower_json, matpower=matpower
        )
    else:
        source, reference = Network.Source.PANDAPOWER, "in-memory"
    existing = Network.objects.filter(name=name).first()
    if existing is not None:
        if existing.source == source and existing.source_reference == reference:
            return existing, False
        raise NetworkImportError(
            f"--name {name}: a network of that name exists (from {existing.source_reference})", field="name"
        )
    try:
        tables = net_to_tables(net)
    except NetworkDataError as error:
        raise NetworkImportError(f"{reference}: {error}", field="file") from error
    network = Network.objects.create(
        name=name, source=source, source_reference=reference, f_hz=float(net.f_hz), sn_mva=float(net.sn_mva)
    )
    counts = _tables_write(network, tables)
    log_entries_create(
        [(network, {"elements": [None, json.dumps(counts)]})], additional_data={"import": reference}
    )
    return network, True


def _tables_write(network: Network, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    counts = {}
    for table, frame in tables.items():
        model = MODELS[table]
        columns = [c for c, _, _ in COLUMNS[table]]
        for column, kind, _default in COLUMNS[table]:
            longest = model._meta.get_field(column).max_length
            if kind == "s" and longest:
                too_long = frame[column].str.len() > longest
                if too_long.any():
                    where = frame.index[too_long.to_numpy()][0]
                    raise NetworkImportError(
                        f"{network.source_reference}: {table} {where}: {column} is longer than "
                        f"{longest} characters",
                        field="file",
                    )
        records = frame[columns].to_dict("records")
        rows = [
            model(
                network=network,
                index=int(index),
                **{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()},
            )
            for index, record in zip(frame.index, records, strict=True)
        ]
        model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        counts[table] = len(rows)
    return counts


def network_get(*, name: str) -> Network:
    network = Network.objects.filter(name=name).first()
    if network is None:
        raise NetworkNotFound(f"{name}: no such network (import it with grid_import)", field="name")
    return network


def network_tables(*, network: Network) -> dict[str, pd.DataFrame]:
    """The stored element tables, as `net_to_tables` gives them (plus load priority/feeder/meter point)."""
    tables = {}
    for table, model in MODELS.items():
        columns = [c for c, _, _ in COLUMNS[table]]
        extra = ["priority", "feeder_code", "meter_point_id", "id"] if table == "load" else []
        values = list(
            model.objects.filter(network=network).order_by("index").values_list("index", *columns, *extra)
        )
        frame = pd.DataFrame(values, columns=["index", *columns, *extra]).set_index("index")
        for column, kind, _default in COLUMNS[table]:
            if kind == "f":
                frame[column] = frame[column].astype("float64")
            elif kind == "s":
                frame[column] = frame[column].fillna("")
        tables[table] = frame
    return tables


def topology_events_in_effect(*, network: Network, as_of: datetime) -> list[TopologyEvent]:
    return list(network.topology_events.filter(effective_at__lte=as_of).order_by("effective_at", "id"))


def _apply_events(tables: dict[str, pd.DataFrame], events: list[TopologyEvent]) -> None:
    for event in events:
        table = event.element_kind.lower()  # the pandapower table: line, trafo, switch, load, sgen, bus
        frame = tables[table]
        if event.element_index not in frame.index:
            continue
        if event.action in (TopologyEvent.Action.OPEN, TopologyEvent.Action.CLOSE):
            frame.at[event.element_index, "closed"] = event.action == TopologyEvent.Action.CLOSE
        else:
            frame.at[event.element_index, "in_service"] = event.action == TopologyEvent.Action.IN_SERVICE


@dataclass
class BuiltNetwork:
    """A built net for one topology, with what services need alongside it."""

    key: tuple
    model: PowerFlowModel
    load_ids: np.ndarray
    load_priority: np.ndarray
    load_feeder: np.ndarray
    load_meter_point: np.ndarray
    sgen_feeder: np.ndarray
    source_reference: str
    lock: threading.Lock


_cache: "OrderedDict[tuple, BuiltNetwork]" = OrderedDict()
_cache_lock = threading.Lock()


def network_model(*, network: Network, as_of: datetime) -> BuiltNetwork:
    """The pandapower net of `network` as of `as_of`, built once per topology version (process cache)."""
    events = topology_events_in_effect(network=network, as_of=as_of)
    key = (network.pk, network.revision, tuple(e.pk for e in events))
    with _cache_lock:
        built = _cache.get(key)
        if built is not None:
            _cache.move_to_end(key)
            return built
    tables = network_tables(network=network)
    _apply_events(tables, events)
    net = tables_to_net(tables, f_hz=network.f_hz, sn_mva=network.sn_mva)
    load = tables["load"]
    built = BuiltNetwork(
        key=key,
        model=PowerFlowModel(net, min_vm_pu=network.min_vm_pu, max_vm_pu=network.max_vm_pu),
        load_ids=load["id"].to_numpy(dtype=np.int64),
        load_priority=load["priority"].to_numpy(dtype=np.int64),
        load_feeder=load["feeder_code"].fillna("").to_numpy(dtype=object),
        load_meter_point=load["meter_point_id"].to_numpy(),
        sgen_feeder=np.array([""] * len(tables["sgen"]), dtype=object),
        source_reference=network.source_reference,
        lock=threading.Lock(),
    )
    with _cache_lock:
        _cache[key] = built
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def network_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def network_export_pandapower_json(*, network: Network, as_of: datetime) -> str:
    import pandapower as pp

    tables = network_tables(network=network)
    _apply_events(tables, topology_events_in_effect(network=network, as_of=as_of))
    return pp.to_json(tables_to_net(tables, f_hz=network.f_hz, sn_mva=network.sn_mva))


def network_geojson(*, network: Network) -> dict[str, Any]:
    """Buses as points and lines as segments between their buses' coordinates (those with coordinates)."""
    buses = {
        index: (name, vn, x, y)
        for index, name, vn, x, y in Bus.objects.filter(network=network).values_list(
            "index", "name", "vn_kv", "geo_x", "geo_y"
        )
    }
    features: list[dict[str, Any]] = []
    for index, (name, vn, x, y) in buses.items():
        if x is not None and y is not None:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {"element": "bus", "index": index, "name": name, "vn_kv": vn},
                }
            )
    for model, kind, a, b in (
        (Line, "line", "from_bus", "to_bus"),
        (Transformer, "trafo", "hv_bus", "lv_bus"),
    ):
        for index, name, x, y, in_service in model.objects.filter(network=network).values_list(
            "index", "name", a, b, "in_service"
        ):
            one, two = buses.get(x), buses.get(y)
            if one and two and None not in (one[2], one[3], two[2], two[3]):
                features.append(
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[one[2], one[3]], [two[2], two[3]]],
                        },
                        "properties": {
                            "element": kind,
                            "index": index,
                            "name": name,
                            "in_service": in_service,
                        },
                    }
                )
    return {"type": "FeatureCollection", "name": network.name, "features": features}
