"""Dated topology changes: switching and elements out of (or back into) service. Each is an audited row."""

from datetime import datetime

from django.db import transaction

from core.errors import DomainError
from core.periods import check_instant
from grid.models import ELEMENT_MODELS, Network, TopologyEvent

KIND_MODELS = {kind: ELEMENT_MODELS[kind] for kind in ("line", "trafo", "switch", "load", "sgen", "bus")}


class TopologyEventInvalid(DomainError, code="GRID_TOPOLOGY_EVENT_INVALID"): ...


@transaction.atomic
def topology_event_record(
    *,
    network: Network,
    element: str,
    action: str,
    effective_at: datetime,
    reason: str = "",
    user_id: int | None = None,
) -> TopologyEvent:
    """Record `element` (`KIND:NAME`, e.g. `switch:S1`, `line:L7`) changing at `effective_at`.

    Switches open/close; other elements go out_of_service/in_service. The same event twice is one event."""
    check_instant(effective_at, field="effective_at", error=TopologyEventInvalid)
    kind, _, name = element.partition(":")
    model = KIND_MODELS.get(kind)
    if model is None or not name:
        raise TopologyEventInvalid(
            f"{element}: use KIND:NAME with KIND one of {', '.join(KIND_MODELS)}", field="element"
        )
    actions = [value.lower() for value in TopologyEvent.Action.values]  # the names callers use
    if action.lower() not in actions:
        raise TopologyEventInvalid(f"{action}: not one of {', '.join(actions)}", field="action")
    action = TopologyEvent.Action(action.upper())
    if (kind == "switch") != (action in (TopologyEvent.Action.OPEN, TopologyEvent.Action.CLOSE)):
        raise TopologyEventInvalid(
            f"{element}: switches open/close; other elements go out_of_service/in_service", field="action"
        )
    row = model.objects.filter(network=network, name=name).values_list("index", flat=True).first()
    if row is None and name.lstrip("-").isdigit():
        row = model.objects.filter(network=network, index=int(name)).values_list("index", flat=True).first()
    if row is None:
        raise TopologyEventInvalid(f"{element}: no such {kind} in {network.name}", field="element")
    event, _ = TopologyEvent.objects.get_or_create(
        network=network,
        element_kind=TopologyEvent.ElementKind(kind.upper()),
        element_index=row,
        action=action,
        effective_at=effective_at,
        defaults={"element_name": name, "reason": reason, "created_by_id": user_id},
    )
    return event
