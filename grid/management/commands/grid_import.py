import sys

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from grid.selectors.network import network_counts
from grid.services.network import network_import


class Command(BaseCommand):
    help = "Import a network from a SimBench code, a pandapower JSON file or a MATPOWER case (docs/grid.md)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--simbench", metavar="CODE", help="SimBench code, e.g. 1-MV-rural--0-sw (bundled data)"
        )
        source.add_argument("--pandapower-json", metavar="FILE", help="A pandapower net saved with to_json")
        source.add_argument("--matpower", metavar="FILE", help="A MATPOWER case (.m or .mat)")
        parser.add_argument("--name", required=True, help="Name to store the network under")

    def handle(self, *args, **options):
        try:
            network, created = network_import(
                name=options["name"],
                simbench_code=options["simbench"],
                pandapower_json=options["pandapower_json"],
                matpower=options["matpower"],
            )
        except DomainError as error:
            raise CommandError(error.messages[0]) from error
        verb = "imported" if created else "already imported, nothing changed:"
        counts = ", ".join(f"{v} {k}" for k, v in network_counts(network=network).items())
        print(f"grid_import: {verb} {network.name} ({network.source_reference}): {counts}", file=sys.stderr)
        self.stdout.write(network.name)
