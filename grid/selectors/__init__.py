"""Reads of the grid app, one module per sub-domain: `network`, `operations`, `plots`, `storage`."""
