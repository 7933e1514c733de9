import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import DomainError
from grid.services.network import network_get
from grid.services.powerflow import power_flow_single


class Command(BaseCommand):
    help = "AC power flow (pandapower) of a stored network with its limits checked; the run is stored."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Network name (grid_import --name)")
        parser.add_argument("--load-scale", type=float, default=1.0, help="Multiply every load's P and Q")
        parser.add_argument(
            "--sgen-scale", type=float, default=1.0, help="Multiply every static generator's P and Q"
        )
        parser.add_argument(
            "--out-of-service",
            nargs="+",
            action="extend",
            default=[],
            metavar="ELEMENT",
            help="line:NAME or trafo:NAME",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args, **options):
        now = timezone.now()
        try:
            network = network_get(name=options["name"])
            outcome = power_flow_single(
                network=network,
                as_of=now,
                now=now,
                load_scale=options["load_scale"],
                sgen_scale=options["sgen_scale"],
                out_of_service=options["out_of_service"],
            )
        except DomainError as error:
            raise CommandError(error.messages[0]) from error
        result = outcome.result
        payload = {
            "converged": result.converged,
            "buses": outcome.buses,
            "seconds": round(result.seconds, 3),
            "violations": [v.as_dict() for v in result.violations],
            "min_vm_pu": result.min_vm_pu,
            "max_vm_pu": result.max_vm_pu,
            "max_line_loading_percent": result.max_line_loading_percent,
        }
        if options["json"]:
            self.stdout.write(json.dumps(payload))
            return
        state = "converged" if result.converged else "did NOT converge"
        self.stdout.write(
            f"{network.name}: {state} in {result.seconds:.3f} s, {outcome.buses} buses, "
            f"{len(result.violations)} violations; "
            f"vm {payload['min_vm_pu']}..{payload['max_vm_pu']} pu, max line loading "
            f"{payload['max_line_loading_percent']} %"
        )
        for v in result.violations[:50]:
            self.stdout.write(f"  {v.element} {v.kind} {v.value:.4f} (limit {v.limit:.4f})")
        if len(result.violations) > 50:
            print(f"  ... {len(result.violations) - 50} more (use --json)", file=sys.stderr)
