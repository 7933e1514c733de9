import json
import sys

from django.core.management.base import CommandError

from grid.management.commands._network_command import NetworkCommand
from grid.services.shedding import shedding_plan_create


class Command(NetworkCommand):
    help = (
        "Load-shedding plan: clear every violation shedding the least load, lowest priority first, never a "
        "critical (priority 0) load. The plan is stored as proposed."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--priorities",
            metavar="FILE",
            help="CSV load,priority (0 = critical); others keep their stored priority",
        )

    def handle(self, *args, **options):
        network, outcome = self.run_on_network(
            shedding_plan_create, options, priorities_path=options["priorities"]
        )
        result = outcome.result
        if not result.converged:
            raise CommandError(f"{network.name}: {result.message}")
        if result.message:
            print(f"grid_shed: {result.message}", file=sys.stderr)
        payload = {
            "violations_before": len(result.violations_before),
            "violations_after": len(result.violations_after),
            "shed": [{"load": name, "p_mw": round(p, 6)} for name, p in outcome.shed],
            "shed_mw": round(result.shed_mw, 6),
            "critical_shed": result.critical_shed,
            "power_flows": result.power_flows,
            "seconds": round(result.seconds, 3),
        }
        if options["json"]:
            payload["feasible"] = result.feasible
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(
            f"{network.name}: {payload['violations_before']} violations before, "
            f"{payload['violations_after']} after; "
            f"shed {payload['shed_mw']:.3f} MW over {len(outcome.shed)} loads ({result.power_flows} "
            f"power flows, "
            f"{result.seconds:.2f} s); critical loads shed: {result.critical_shed}; plan "
            f"{outcome.plan.pk if outcome.plan else '-'}"
        )
        for name, p in outcome.shed[:50]:
            self.stdout.write(f"  {name} {p:.4f} MW")
