"""The operations the apps' migrations share (core.migration_ops), run on the real database."""

import pytest
from django.apps import apps
from django.db import connection, migrations, models

from core.migration_ops import recase_choices
from metering.models import MeterPoint

pytestmark = pytest.mark.django_db


def heating_types(*points: MeterPoint) -> list[str]:
    """The stored heating types of `points`, read again from the database."""
    stored = dict(MeterPoint.objects.filter(pk__in=[p.pk for p in points]).values_list("pk", "heating_type"))
    return [stored[point.pk] for point in points]


def test_recase_choices_writes_stored_values_upper_case_and_back_lower_case():
    altered = [
        migrations.AlterField(
            model_name="meterpoint", name="heating_type", field=models.CharField(max_length=20)
        ),
    ]
    heat_pump = MeterPoint.objects.create(identifier="RECASE-1", heating_type="heat_pump")
    gas = MeterPoint.objects.create(identifier="RECASE-2", heating_type="gas")
    operation = recase_choices("metering", altered)

    with connection.schema_editor() as schema_editor:
        operation.code(apps, schema_editor)
    assert heating_types(heat_pump, gas) == ["HEAT_PUMP", "GAS"]

    with connection.schema_editor() as schema_editor:
        operation.reverse_code(apps, schema_editor)
    assert heating_types(heat_pump, gas) == ["heat_pump", "gas"]


def test_recase_choices_leaves_fields_it_is_not_given_alone():
    altered = [migrations.AlterField(model_name="meterpoint", name="heating_type", field=models.CharField())]
    MeterPoint.objects.create(identifier="recase-3", heating_type="other")

    with connection.schema_editor() as schema_editor:
        recase_choices("metering", altered).code(apps, schema_editor)
    point = MeterPoint.objects.get(identifier="recase-3")
    assert (point.identifier, point.heating_type) == ("recase-3", "OTHER")
