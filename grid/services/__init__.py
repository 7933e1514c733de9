"""Services of the grid app, one module per sub-domain: network, topology, powerflow, shedding, dispatch,
scenarios, monitoring, feeders, storage, balancing; `inputs` is what grid reads from other apps."""
