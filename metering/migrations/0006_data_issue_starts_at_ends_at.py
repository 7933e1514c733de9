# A data issue's period is an instant range: `*_at` like every datetime (billing's period_start/period_end
# are dates).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('metering', '0005_stored_choices_upper_case'),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='dataissue', name='data_issue_once_per_period'),
        migrations.RenameField(model_name='dataissue', old_name='period_start', new_name='starts_at'),
        migrations.RenameField(model_name='dataissue', old_name='period_end', new_name='ends_at'),
        migrations.AddConstraint(
            model_name='dataissue',
            constraint=models.UniqueConstraint(
                fields=('meter', 'kind', 'starts_at'), name='data_issue_once_per_period'
            ),
        ),
    ]
