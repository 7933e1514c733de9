"""A pandapower net as plain column tables (what the database stores), and back.

`net_to_tables` checks a net element by element and raises `NetworkDataError` naming the first bad element;
`tables_to_net` builds a pandapower net with pandapower's own vectorised `create_*` functions.
"""

import json
import math
from typing import Any

import numpy as np
import pandas as pd

# Columns stored per element table: (column, kind, default). Kinds: f float (NaN allowed when default is
# None), i int, b bool, s str. Loads and static generators store the same columns.
INJECTION_COLUMNS: list[tuple[str, str, Any]] = [
    ("name", "s", ""),
    ("bus", "i", "required"),
    ("p_mw", "f", "required"),
    ("q_mvar", "f", 0.0),
    ("sn_mva", "f", None),
    ("scaling", "f", 1.0),
    ("type", "s", ""),
    ("profile", "s", ""),
    ("in_service", "b", True),
]
COLUMNS: dict[str, list[tuple[str, str, Any]]] = {
    "bus": [
        ("name", "s", ""),
        ("vn_kv", "f", "required"),
        ("type", "s", "b"),
        ("zone", "s", ""),
        ("in_service", "b", True),
        ("min_vm_pu", "f", None),
        ("max_vm_pu", "f", None),
        ("geo_x", "f", None),
        ("geo_y", "f", None),
    ],
    "line": [
        ("name", "s", ""),
        ("std_type", "s", ""),
        ("from_bus", "i", "required"),
        ("to_bus", "i", "required"),
        ("length_km", "f", "required"),
        ("r_ohm_per_km", "f", "required"),
        ("x_ohm_per_km", "f", "required"),
        ("c_nf_per_km", "f", 0.0),
        ("g_us_per_km", "f", 0.0),
        ("max_i_ka", "f", "required"),
        ("df", "f", 1.0),
        ("parallel", "i", 1),
        ("type", "s", ""),
        ("in_service", "b", True),
        ("max_loading_percent", "f", None),
    ],
    "trafo": [
        ("name", "s", ""),
        ("std_type", "s", ""),
        ("hv_bus", "i", "required"),
        ("lv_bus", "i", "required"),
        ("sn_mva", "f", "required"),
        ("vn_hv_kv", "f", "required"),
        ("vn_lv_kv", "f", "required"),
        ("vk_percent", "f", "required"),
        ("vkr_percent", "f", "required"),
        ("pfe_kw", "f", 0.0),
        ("i0_percent", "f", 0.0),
        ("shift_degree", "f", 0.0),
        ("tap_side", "s", ""),
        ("tap_neutral", "f", None),
        ("tap_min", "f", None),
        ("tap_max", "f", None),
        ("tap_step_percent", "f", None),
        ("tap_step_degree", "f", None),
        ("tap_pos", "f", None),
        ("tap_changer_type", "s", ""),
        ("parallel", "i", 1),
        ("df", "f", 1.0),
        ("in_service", "b", True),
        ("max_loading_percent", "f", None),
    ],
    "switch": [
        ("name", "s", ""),
        ("bus", "i", "required"),
        ("element", "i", "required"),
        ("et", "s", "required"),
        ("type", "s", ""),
        ("closed", "b", True),
        ("z_ohm", "f", 0.0),
    ],
    "ext_grid": [
        ("name", "s", ""),
        ("bus", "i", "required"),
        ("vm_pu", "f", 1.0),
        ("va_degree", "f", 0.0),
        ("slack_weight", "f", 1.0),
        ("in_service", "b", True),
    ],
    "load": INJECTION_COLUMNS,
    "sgen": INJECTION_COLUMNS,
    "gen": [
        ("name", "s", ""),
        ("bus", "i", "required"),
        ("p_mw", "f", "required"),
        ("vm_pu", "f", 1.0),
        ("sn_mva", "f", None),
        ("min_q_mvar", "f", None),
        ("max_q_mvar", "f", None),
        ("scaling", "f", 1.0),
        ("slack", "b", False),
        ("slack_weight", "f", 0.0),
        ("in_service", "b", True),
    ],
    "shunt": [
        ("name", "s", ""),
        ("bus", "i", "required"),
        ("p_mw", "f", 0.0),
        ("q_mvar", "f", "required"),
        ("vn_kv", "f", "required"),
        ("step", "i", 1),
        ("max_step", "i", 1),
        ("in_service", "b", True),
    ],
}
ELEMENTS = tuple(COLUMNS)
# Tables a net may have that this model does not store: importing a net that uses them fails.
UNSUPPORTED = (
    "trafo3w",
    "impedance",
    "ward",
    "xward",
    "dcline",
    "storage",
    "motor",
    "svc",
    "tcsc",
    "ssc",
    "vsc",
)
BUS_REFERENCES = {"line": ("from_bus", "to_bus"), "trafo": ("hv_bus", "lv_bus")}


class NetworkDataError(ValueError):
    """The net has an element this model cannot store; the message names it."""


def _label(table: str, index: Any, name: Any) -> str:
    return f"{table} {index}" + (f" ({name!r})" if isinstance(name, str) and name else "")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _geo(value: Any) -> tuple[float, float]:
    if isinstance(value, str) and value:
        try:
            coordinates = json.loads(value).get("coordinates")
            return float(coordinates[0]), float(coordinates[1])
        except (ValueError, TypeError, AttributeError, IndexError):
            return math.nan, math.nan
    if isinstance(value, dict):
        coordinates = value.get("coordinates") or [math.nan, math.nan]
        return float(coordinates[0]), float(coordinates[1])
    return math.nan, math.nan


def net_to_tables(net: Any) -> dict[str, pd.DataFrame]:
    """The stored columns of every element table of `net`, indexed by element index; validated."""
    for table in UNSUPPORTED:
        if table in net and len(net[table]):
            raise NetworkDataError(
                f"{table}: {len(net[table])} element(s) of a kind this model does not store"
            )
    tables: dict[str, pd.DataFrame] = {}
    bus_frame = net.bus.copy()
    if "geo" in bus_frame.columns:
        xy = [_geo(value) for value in bus_frame["geo"]]
        bus_frame["geo_x"] = [x for x, _ in xy]
        bus_frame["geo_y"] = [y for _, y in xy]
    elif "bus_geodata" in net and len(net.bus_geodata):
        bus_frame["geo_x"] = net.bus_geodata["x"].reindex(bus_frame.index)
        bus_frame["geo_y"] = net.bus_geodata["y"].reindex(bus_frame.index)
    for table, columns in COLUMNS.items():
        source = bus_frame if table == "bus" else (net[table] if table in net else pd.DataFrame())
        out: dict[str, Any] = {}
        for column, kind, default in columns:
            values = (
                source[column]
                if column in source.columns
                else pd.Series([None] * len(source), index=source.index)
            )
            if default == "required":
                missing = values.isna()
                if missing.any():
                    where = values.index[missing.to_numpy()][0]
                    name = source["name"].get(where) if "name" in source.columns else None
                    raise NetworkDataError(f"{_label(table, where, name)}: {column} is missing")
            if kind == "f":
                array = pd.to_numeric(values, errors="coerce").astype("float64")
                if default not in (None, "required"):
                    array = array.fillna(default)
            elif kind == "i":
                array = pd.to_numeric(values, errors="coerce")
                if default != "required":
                    array = array.fillna(default)
                array = array.astype("int64")
            elif kind == "b":
                array = values.fillna(default).astype(bool)
            else:
                array = values.map(
                    lambda v, d=default: (d if d != "required" else "") if _is_missing(v) else str(v)
                )
            out[column] = array.to_numpy()
        frame = pd.DataFrame(out, index=source.index.astype("int64"))
        frame.index.name = "index"
        tables[table] = frame
    _check_references(tables)
    return tables


def _check_references(tables: dict[str, pd.DataFrame]) -> None:
    buses = set(tables["bus"].index.tolist())
    if not buses:
        raise NetworkDataError("bus: the network has no buses")
    for table, frame in tables.items():
        columns = BUS_REFERENCES.get(table, ("bus",) if "bus" in frame.columns else ())
        for column in columns:
            bad = ~frame[column].isin(buses)
            if bad.any():
                where = frame.index[bad.to_numpy()][0]
                raise NetworkDataError(
                    f"{_label(table, where, frame.at[where, 'name'])}: "
                    f"{column} {frame.at[where, column]} is not a bus"
                )
    switches = tables["switch"]
    for et, table in (("l", "line"), ("t", "trafo"), ("b", "bus")):
        chosen = switches[switches["et"] == et]
        bad = ~chosen["element"].isin(set(tables[table].index.tolist()))
        if bad.any():
            where = chosen.index[bad.to_numpy()][0]
            raise NetworkDataError(
                f"{_label('switch', where, switches.at[where, 'name'])}: element "
                f"{switches.at[where, 'element']} "
                f"is not a {table}"
            )
    unknown = ~switches["et"].isin(["l", "t", "b"])
    if unknown.any():
        where = switches.index[unknown.to_numpy()][0]
        raise NetworkDataError(
            f"{_label('switch', where, switches.at[where, 'name'])}: element type "
            f"{switches.at[where, 'et']!r}"
        )
    if not len(tables["ext_grid"]) and not (len(tables["gen"]) and tables["gen"]["slack"].any()):
        raise NetworkDataError("ext_grid: the network has no external grid (slack)")
    for table in ("load", "sgen"):
        frame = tables[table]
        bad = ~np.isfinite(frame["p_mw"].to_numpy())
        if bad.any():
            where = frame.index[bad][0]
            raise NetworkDataError(f"{_label(table, where, frame.at[where, 'name'])}: p_mw is not a number")


def _nan_none(values: np.ndarray) -> list[Any]:
    return [None if v == "" else v for v in values]


# pandapower's create_lines_from_parameters / create_transformers_from_parameters: positional, then keywords.
LINE_PARAMETERS = (
    "from_bus",
    "to_bus",
    "length_km",
    "r_ohm_per_km",
    "x_ohm_per_km",
    "c_nf_per_km",
    "max_i_ka",
)
LINE_KEYWORDS = (
    "name",
    "std_type",
    "type",
    "g_us_per_km",
    "df",
    "parallel",
    "in_service",
    "max_loading_percent",
)
TRAFO_PARAMETERS = (
    "hv_bus",
    "lv_bus",
    "sn_mva",
    "vn_hv_kv",
    "vn_lv_kv",
    "vkr_percent",
    "vk_percent",
    "pfe_kw",
    "i0_percent",
)
TRAFO_KEYWORDS = (
    "shift_degree",
    "tap_side",
    "tap_neutral",
    "tap_min",
    "tap_max",
    "tap_step_percent",
    "tap_step_degree",
    "tap_pos",
    "tap_changer_type",
    "name",
    "std_type",
    "parallel",
    "df",
    "in_service",
    "max_loading_percent",
)


GEN_KEYWORDS = (
    "vm_pu",
    "sn_mva",
    "min_q_mvar",
    "max_q_mvar",
    "scaling",
    "slack",
    "slack_weight",
    "in_service",
    "name",
)


def _arrays(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[np.ndarray]:
    return [frame[column].to_numpy() for column in columns]


def _keywords(frame: pd.DataFrame, columns: tuple[str, ...], *, text: set[str]) -> dict[str, Any]:
    """Column arrays by name; `text` columns with "" as None (pandapower's missing value)."""
    return {
        column: _nan_none(frame[column].to_numpy()) if column in text else frame[column].to_numpy()
        for column in columns
    }


def tables_to_net(tables: dict[str, pd.DataFrame], *, f_hz: float = 50.0, sn_mva: float = 1.0) -> Any:
    """A pandapower net with exactly these elements (their source indices kept)."""
    import pandapower as pp

    net = pp.create_empty_network(f_hz=f_hz, sn_mva=sn_mva)
    bus = tables["bus"]
    if len(bus):
        geodata = None
        if np.isfinite(bus["geo_x"].to_numpy()).all() and np.isfinite(bus["geo_y"].to_numpy()).all():
            geodata = list(zip(bus["geo_x"].to_numpy(), bus["geo_y"].to_numpy(), strict=True))
        pp.create_buses(
            net,
            len(bus),
            vn_kv=bus["vn_kv"].to_numpy(),
            index=bus.index.to_numpy(),
            name=bus["name"].to_numpy(),
            type=bus["type"].to_numpy(),
            zone=_nan_none(bus["zone"].to_numpy()),
            in_service=bus["in_service"].to_numpy(),
            min_vm_pu=bus["min_vm_pu"].to_numpy(),
            max_vm_pu=bus["max_vm_pu"].to_numpy(),
            geodata=geodata,
        )
    line = tables["line"]
    if len(line):
        pp.create_lines_from_parameters(
            net,
            *_arrays(line, LINE_PARAMETERS),
            index=line.index.to_numpy(),
            **_keywords(line, LINE_KEYWORDS, text={"std_type", "type"}),
        )
    trafo = tables["trafo"]
    if len(trafo):
        pp.create_transformers_from_parameters(
            net,
            *_arrays(trafo, TRAFO_PARAMETERS),
            index=trafo.index.to_numpy(),
            **_keywords(trafo, TRAFO_KEYWORDS, text={"tap_side", "tap_changer_type", "std_type"}),
        )
    switch = tables["switch"]
    if len(switch):
        pp.create_switches(
            net,
            switch["bus"].to_numpy(),
            switch["element"].to_numpy(),
            switch["et"].tolist(),
            closed=switch["closed"].to_numpy(),
            type=_nan_none(switch["type"].to_numpy()),
            name=switch["name"].to_numpy(),
            z_ohm=switch["z_ohm"].to_numpy(),
            index=switch.index.to_numpy(),
        )
    for index, row in tables["ext_grid"].iterrows():
        pp.create_ext_grid(
            net,
            int(row["bus"]),
            vm_pu=row["vm_pu"],
            va_degree=row["va_degree"],
            slack_weight=row["slack_weight"],
            in_service=bool(row["in_service"]),
            name=row["name"],
            index=int(index),
        )
    for table, create in (("load", pp.create_loads), ("sgen", pp.create_sgens)):
        frame = tables[table]
        if len(frame):
            create(
                net,
                *_arrays(frame, ("bus", "p_mw")),
                index=frame.index.to_numpy(),
                **_keywords(
                    frame,
                    ("q_mvar", "sn_mva", "scaling", "type", "name", "in_service", "profile"),
                    text={"type", "profile"},
                ),
            )
    gen = tables["gen"]
    if len(gen):
        pp.create_gens(
            net,
            *_arrays(gen, ("bus", "p_mw")),
            index=gen.index.to_numpy(),
            **_keywords(gen, GEN_KEYWORDS, text=set()),
        )
    for index, row in tables["shunt"].iterrows():
        pp.create_shunt(
            net,
            int(row["bus"]),
            q_mvar=row["q_mvar"],
            p_mw=row["p_mw"],
            vn_kv=row["vn_kv"],
            step=int(row["step"]),
            max_step=int(row["max_step"]),
            in_service=bool(row["in_service"]),
            name=row["name"],
            index=int(index),
        )
    return net
