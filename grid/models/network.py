"""A distribution network as pandapower models it, stored table by table, and its dated topology changes.

Every element keeps the index it had in its source (`index`, unique per network) and the source's `name`;
elements refer to buses (and switches to lines/transformers) by those indices, so a whole table is written
with one bulk insert and read back as arrays. The pandapower net is rebuilt from these rows plus the
topology events effective at the instant asked for (see grid/services/network.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Network(models.Model):
    """A network imported from SimBench, pandapower JSON or MATPOWER."""

    class Source(models.TextChoices):
        SIMBENCH = "SIMBENCH", "SimBench"
        PANDAPOWER = "PANDAPOWER", "pandapower JSON"
        MATPOWER = "MATPOWER", "MATPOWER"

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    source_reference = models.CharField(max_length=200, blank=True, help_text="SimBench code or file name.")
    f_hz = models.FloatField(default=50.0)
    sn_mva = models.FloatField(default=1.0)
    min_vm_pu = models.FloatField(default=0.95, help_text="Voltage band for buses without their own limits.")
    max_vm_pu = models.FloatField(default=1.05, help_text="Voltage band for buses without their own limits.")
    revision = models.PositiveIntegerField(default=1, help_text="Raised when the stored elements change.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_vm_pu__lt=F("max_vm_pu")), name="grid_network_band_valid")
        ]

    def __str__(self) -> str:
        return self.name


class Element(models.Model):
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    index = models.IntegerField(help_text="The element's index in its source (pandapower table index).")
    name = models.CharField(max_length=200, blank=True)
    in_service = models.BooleanField(default=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name or f"{type(self).__name__.lower()} {self.index}"


def _unique(model: str) -> list[models.BaseConstraint]:
    return [models.UniqueConstraint(fields=["network", "index"], name=f"grid_{model}_index_uniq")]


class Bus(Element):
    vn_kv = models.FloatField()
    type = models.CharField(max_length=32, default="b")
    zone = models.CharField(max_length=100, blank=True)
    min_vm_pu = models.FloatField(null=True, blank=True)
    max_vm_pu = models.FloatField(null=True, blank=True)
    geo_x = models.FloatField(null=True, blank=True, help_text="Longitude (or x) of the bus.")
    geo_y = models.FloatField(null=True, blank=True, help_text="Latitude (or y) of the bus.")

    class Meta:
        constraints = _unique("bus")
        verbose_name_plural = "buses"


class Line(Element):
    std_type = models.CharField(max_length=100, blank=True)
    from_bus = models.IntegerField()
    to_bus = models.IntegerField()
    length_km = models.FloatField()
    r_ohm_per_km = models.FloatField()
    x_ohm_per_km = models.FloatField()
    c_nf_per_km = models.FloatField()
    g_us_per_km = models.FloatField(default=0.0)
    max_i_ka = models.FloatField()
    df = models.FloatField(default=1.0)
    parallel = models.IntegerField(default=1)
    type = models.CharField(max_length=32, blank=True)
    max_loading_percent = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = _unique("line")


class Transformer(Element):
    std_type = models.CharField(max_length=100, blank=True)
    hv_bus = models.IntegerField()
    lv_bus = models.IntegerField()
    sn_mva = models.FloatField()
    vn_hv_kv = models.FloatField()
    vn_lv_kv = models.FloatField()
    vk_percent = models.FloatField()
    vkr_percent = models.FloatField()
    pfe_kw = models.FloatField(default=0.0)
    i0_percent = models.FloatField(default=0.0)
    shift_degree = models.FloatField(default=0.0)
    tap_side = models.CharField(max_length=8, blank=True)
    tap_neutral = models.FloatField(null=True, blank=True)
    tap_min = models.FloatField(null=True, blank=True)
    tap_max = models.FloatField(null=True, blank=True)
    tap_step_percent = models.FloatField(null=True, blank=True)
    tap_step_degree = models.FloatField(null=True, blank=True)
    tap_pos = models.FloatField(null=True, blank=True)
    tap_changer_type = models.CharField(max_length=32, blank=True)
    parallel = models.IntegerField(default=1)
    df = models.FloatField(default=1.0)
    max_loading_percent = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = _unique("transformer")


class Switch(models.Model):
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    index = models.IntegerField()
    name = models.CharField(max_length=200, blank=True)
    bus = models.IntegerField()
    element = models.IntegerField()
    et = models.CharField(max_length=2, help_text="b (bus), l (line) or t (transformer).")
    type = models.CharField(max_length=32, blank=True)
    closed = models.BooleanField(default=True)
    z_ohm = models.FloatField(default=0.0)

    class Meta:
        constraints = _unique("switch")
        verbose_name_plural = "switches"

    def __str__(self) -> str:
        return self.name or f"switch {self.index}"


class ExtGrid(Element):
    bus = models.IntegerField()
    vm_pu = models.FloatField(default=1.0)
    va_degree = models.FloatField(default=0.0)
    slack_weight = models.FloatField(default=1.0)

    class Meta:
        constraints = _unique("extgrid")
        verbose_name = "external grid"


class Load(Element):
    """A load, its shedding priority (0 = critical, never shed) and what measures or forecasts it."""

    bus = models.IntegerField()
    p_mw = models.FloatField()
    q_mvar = models.FloatField(default=0.0)
    sn_mva = models.FloatField(null=True, blank=True)
    scaling = models.FloatField(default=1.0)
    type = models.CharField(max_length=32, blank=True)
    profile = models.CharField(max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(
        default=3,
        help_text="0 = critical (hospitals, water, telecoms), never shed; higher numbers are shed first.",
    )
    feeder_code = models.CharField(max_length=32, blank=True, db_index=True)
    meter_point = models.ForeignKey(
        "metering.MeterPoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = _unique("load")


class StaticGenerator(Element):
    bus = models.IntegerField()
    p_mw = models.FloatField()
    q_mvar = models.FloatField(default=0.0)
    sn_mva = models.FloatField(null=True, blank=True)
    scaling = models.FloatField(default=1.0)
    type = models.CharField(max_length=32, blank=True)
    profile = models.CharField(max_length=100, blank=True)
    feeder_code = models.CharField(max_length=32, blank=True, db_index=True)

    class Meta:
        constraints = _unique("staticgenerator")


class Generator(Element):
    """A voltage-controlled generator (MATPOWER and transmission cases)."""

    bus = models.IntegerField()
    p_mw = models.FloatField()
    vm_pu = models.FloatField(default=1.0)
    sn_mva = models.FloatField(null=True, blank=True)
    min_q_mvar = models.FloatField(null=True, blank=True)
    max_q_mvar = models.FloatField(null=True, blank=True)
    scaling = models.FloatField(default=1.0)
    slack = models.BooleanField(default=False)
    slack_weight = models.FloatField(default=0.0)

    class Meta:
        constraints = _unique("generator")


class Shunt(Element):
    bus = models.IntegerField()
    p_mw = models.FloatField(default=0.0)
    q_mvar = models.FloatField()
    vn_kv = models.FloatField()
    step = models.IntegerField(default=1)
    max_step = models.IntegerField(default=1)

    class Meta:
        constraints = _unique("shunt")


class TopologyEvent(models.Model):
    """A dated change of topology: a switch opened or closed, an element taken out of or back into service.

    The network as of an instant is the stored one with every event effective at or before it applied in
    order of `effective_at` (then id); a later event on the same element wins.
    """

    class ElementKind(models.TextChoices):
        LINE = "LINE", "Line"
        TRAFO = "TRAFO", "Transformer"
        SWITCH = "SWITCH", "Switch"
        LOAD = "LOAD", "Load"
        SGEN = "SGEN", "Static generator"
        BUS = "BUS", "Bus"

    class Action(models.TextChoices):
        OPEN = "OPEN", "Open (switch)"
        CLOSE = "CLOSE", "Close (switch)"
        OUT_OF_SERVICE = "OUT_OF_SERVICE", "Out of service"
        IN_SERVICE = "IN_SERVICE", "In service"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="topology_events")
    element_kind = models.CharField(max_length=8, choices=ElementKind.choices)
    element_index = models.IntegerField()
    element_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    effective_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["network", "effective_at"], name="grid_topo_event_at_idx")]

    def __str__(self) -> str:
        element = f"{self.element_kind}:{self.element_name or self.element_index}"
        return f"{element} {self.action} @ {self.effective_at:%Y-%m-%d %H:%M}"


# The element models by the pandapower table they store.
ELEMENT_MODELS: dict[str, type[Element] | type[Switch]] = {
    "bus": Bus,
    "line": Line,
    "trafo": Transformer,
    "switch": Switch,
    "ext_grid": ExtGrid,
    "load": Load,
    "sgen": StaticGenerator,
    "gen": Generator,
    "shunt": Shunt,
}
