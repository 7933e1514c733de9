"""Operations the apps' migrations share. A migration that imports one keeps working as long as it stays here
unchanged, so change a helper only by adding a new one."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import migrations
from django.db.models.functions import Lower, Upper


def recase_choices(app_label: str, altered: Sequence[migrations.AlterField]) -> migrations.RunPython:
    """Rewrite the stored values of the choice fields `altered` (their `AlterField` operations) of
    `app_label` upper case; reversed, lower case."""
    fields = [(operation.model_name, operation.name) for operation in altered]

    def recase(case: Callable[[str], Any]) -> Callable[[Any, Any], None]:
        def run(apps: Any, schema_editor: Any) -> None:
            for model_name, field in fields:
                apps.get_model(app_label, model_name).objects.update(**{field: case(field)})

        return run

    return migrations.RunPython(recase(Upper), recase(Lower))
