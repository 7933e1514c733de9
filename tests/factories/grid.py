"""A small synthetic radial LV network (pandapower), fast to build: an MV slack, one 250 kVA transformer,
two feeders of six buses with a load each and a PV generator on one feeder; bus limits 0.9–1.1 pu on LV."""

import pandapower as pp


def small_net():
    net = pp.create_empty_network(name="small")
    mv = pp.create_bus(net, 20.0, name="MV bus", geodata=(0.0, 0.0))
    lv = pp.create_bus(net, 0.4, name="LV busbar", geodata=(0.0, -1.0), min_vm_pu=0.9, max_vm_pu=1.1)
    pp.create_ext_grid(net, mv, vm_pu=1.02, name="grid")
    pp.create_transformer_from_parameters(
        net,
        mv,
        lv,
        sn_mva=0.25,
        vn_hv_kv=20.0,
        vn_lv_kv=0.4,
        vkr_percent=1.2,
        vk_percent=4.0,
        pfe_kw=0.5,
        i0_percent=0.3,
        name="T1",
        max_loading_percent=100.0,
    )
    for feeder in ("A", "B"):
        previous = lv
        for k in range(1, 7):
            x = (1.0 if feeder == "A" else -1.0) * k
            bus = pp.create_bus(
                net, 0.4, name=f"{feeder}{k}", geodata=(x, -1.0 - 0.2 * k), min_vm_pu=0.9, max_vm_pu=1.1
            )
            pp.create_line_from_parameters(
                net,
                previous,
                bus,
                length_km=0.08,
                r_ohm_per_km=0.206,
                x_ohm_per_km=0.08,
                c_nf_per_km=261.0,
                max_i_ka=0.27,
                name=f"L{feeder}{k}",
                max_loading_percent=100.0,
            )
            pp.create_load(net, bus, p_mw=0.012, q_mvar=0.004, name=f"load {feeder}{k}")
            previous = bus
    pp.create_sgen(net, net.bus.index[net.bus["name"] == "A3"][0], p_mw=0.02, name="PV A3", type="PV")
    pp.create_switch(net, lv, net.line.index[net.line["name"] == "LB1"][0], "l", closed=True, name="S-B1")
    return net


def ring_net(*, pv_mw: float = 0.0):
    """A 20 kV ring of two parallel paths (0.09 kA each) from the slack to a hub bus with a 3 MW load, and a
    radial spur with a 1 MW load (and `pv_mw` of PV): intact each path is at about 65 %; one path out, the
    other at about 130 %."""
    net = pp.create_empty_network(name="ring")
    slack = pp.create_bus(net, 20.0, name="S", min_vm_pu=0.9, max_vm_pu=1.1)
    hub = pp.create_bus(net, 20.0, name="H", min_vm_pu=0.9, max_vm_pu=1.1)
    spur = pp.create_bus(net, 20.0, name="P", min_vm_pu=0.9, max_vm_pu=1.1)
    pp.create_ext_grid(net, slack, vm_pu=1.02)
    for name in ("ring-a", "ring-b"):
        pp.create_line_from_parameters(
            net,
            slack,
            hub,
            length_km=2.0,
            r_ohm_per_km=0.1,
            x_ohm_per_km=0.1,
            c_nf_per_km=200.0,
            max_i_ka=0.09,
            name=name,
        )
    pp.create_line_from_parameters(
        net,
        hub,
        spur,
        length_km=1.0,
        r_ohm_per_km=0.2,
        x_ohm_per_km=0.1,
        c_nf_per_km=200.0,
        max_i_ka=0.2,
        name="spur",
    )
    pp.create_load(net, hub, p_mw=3.0, q_mvar=0.5, name="hub load")
    pp.create_load(net, spur, p_mw=1.0, q_mvar=0.2, name="spur load")
    if pv_mw:
        pp.create_sgen(net, spur, p_mw=pv_mw, name="spur PV", type="PV")
    return net
