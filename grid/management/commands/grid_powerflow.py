import json
import sys

from grid.management.commands._network_command import NetworkCommand
from grid.services.powerflow import power_flow_single


class Command(NetworkCommand):
    help = "AC power flow (pandapower) of a stored network with its limits checked; the run is stored."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--out-of-service",
            nargs="+",
            action="extend",
            default=[],
            metavar="ELEMENT",
            help="line:NAME or trafo:NAME",
        )

    def handle(self, *args, **options):
        network, outcome = self.run_on_network(
            power_flow_single, options, out_of_service=options["out_of_service"]
        )
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
