"""ApiClient now belongs to core (same table); its content type, permissions and audit entries follow it."""

from django.db import migrations


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="core", model="apiclient").exists():
        ContentType.objects.filter(app_label="config", model="apiclient").update(app_label="core")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="config", model="apiclient").exists():
        ContentType.objects.filter(app_label="core", model="apiclient").update(app_label="config")


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_initial"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiClient")], database_operations=[]
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
