"""Django-free calculations of the grid app: network tables, power flow, limits, shedding (arrays
in, arrays out)."""
