import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import DomainError
from grid.services.network import network_get
from grid.services.shedding import shedding_plan_create


class Command(BaseCommand):
    help = (
        "Load-shedding plan: clear every violation shedding the least load, lowest priority first, never a "
        "critical (priority 0) load. The plan is stored as proposed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Network name (grid_import --name)")
        parser.add_argument("--load-scale", type=float, default=1.0, help="Multiply every load's P and Q")
        parser.add_argument(
            "--sgen-scale", type=float, default=1.0, help="Multiply every static generator's P and Q"
        )
        parser.add_argument(
            "--priorities",
            metavar="FILE",
            help="CSV load,priority (0 = critical); others keep their stored priority",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args, **options):
        now = timezone.now()
        try:
            network = network_get(name=options["name"])
            outcome = shedding_plan_create(
                network=network,
                as_of=now,
                now=now,
                load_scale=options["load_scale"],
                sgen_scale=options["sgen_scale"],
                priorities_path=options["priorities"],
            )
        except DomainError as error:
            raise CommandError(error.messages[0]) from error
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
