from django.db.models import QuerySet

from grid.models import Bus, Line, Load, Network, StaticGenerator, Switch, Transformer


def network_list() -> QuerySet[Network]:
    return Network.objects.order_by("name", "id")


def network_get_by_name(*, name: str) -> Network | None:
    return Network.objects.filter(name=name).first()


def network_counts(*, network: Network) -> dict[str, int]:
    return {
        "buses": Bus.objects.filter(network=network).count(),
        "lines": Line.objects.filter(network=network).count(),
        "transformers": Transformer.objects.filter(network=network).count(),
        "switches": Switch.objects.filter(network=network).count(),
        "loads": Load.objects.filter(network=network).count(),
        "static_generators": StaticGenerator.objects.filter(network=network).count(),
    }
