"""Services of the grid app, one module per sub-domain (network, topology, powerflow, shedding,
dispatch, scenarios)."""
