"""Map metering feeders onto a network's loads (each load then follows its feeder's measured or forecast
shape)."""

from django.db import transaction

from core.audit import bulk_update_audited, log_entries_create, update_audited
from grid.models import Load, Network


@transaction.atomic
def network_feeders_map(*, network: Network, feeder_codes: list[str]) -> dict[str, int]:
    """Split the network's loads, in index order (neighbouring loads share a feeder), into one contiguous
    block per feeder code; returns loads per code. Idempotent; one audit entry for the network."""
    codes = [c for c in feeder_codes if c]
    if not codes:
        return {}
    loads = list(Load.objects.filter(network=network).order_by("index"))
    size = -(-len(loads) // len(codes))
    counts: dict[str, int] = {}
    changed = []
    for k, load in enumerate(loads):
        code = codes[min(k // size, len(codes) - 1)]
        counts[code] = counts.get(code, 0) + 1
        if load.feeder_code != code:
            load.feeder_code = code
            changed.append(load)
    if not changed:
        return counts
    bulk_update_audited(Load, changed, ["feeder_code"], batch_size=5000)
    update_audited(Network.objects.filter(pk=network.pk), revision=network.revision + 1)
    network.revision += 1
    log_entries_create([(network, {"feeder_map": [None, str(counts)]})], additional_data={"feeders": codes})
    return counts
