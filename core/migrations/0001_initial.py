"""ApiClient moves from the config app to core; its table (`config_apiclient`) stays where it is."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("config", "0001_initial"),
        migrations.swappable_dependency(settings.OAUTH2_PROVIDER_APPLICATION_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiClient",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("scopes", models.CharField(help_text="Space-separated scopes this client may be granted.", max_length=500)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("application", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="api_client", to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL)),
                    ],
                    options={"db_table": "config_apiclient"},
                ),
            ],
            database_operations=[],
        ),
    ]
