"""What grid_powerflow and grid_shed share: a stored network by name, the load and generation scales of the
command-line contract, `--json`, and domain errors as one-line command errors."""

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import DomainError
from grid.services.network import network_get


class NetworkCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("name", help="Network name (grid_import --name)")
        parser.add_argument("--load-scale", type=float, default=1.0, help="Multiply every load's P and Q")
        parser.add_argument(
            "--sgen-scale", type=float, default=1.0, help="Multiply every static generator's P and Q"
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def run_on_network(
        self, service: Callable[..., Any], options: dict[str, Any], **extra: Any
    ) -> tuple[Any, Any]:
        """Call `service` on the named network, now, with the scales; return (network, outcome)."""
        now = timezone.now()
        try:
            network = network_get(name=options["name"])
            outcome = service(
                network=network,
                as_of=now,
                now=now,
                load_scale=options["load_scale"],
                sgen_scale=options["sgen_scale"],
                **extra,
            )
        except DomainError as error:
            raise CommandError(error.messages[0]) from error
        return network, outcome
