"""Emergency maintenance is approved by the named approver acting (issue 14, item 12).

Until now the requester picked "who approved" and the window counted as approved at once. The
person picked becomes the window's ``approver``. A window that is still to come or running
loses that recorded approval, so it suppresses nothing until the approver approves it in the
console; a finished one keeps it as history, unless the requester had named themselves.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


ACTIVE = ("scheduled", "in_progress")


def approver_from_recorded_approval(apps, schema_editor):
    Window = apps.get_model("deployments", "MaintenanceWindow")
    emergency = Window.objects.filter(kind="emergency")
    for window in emergency.iterator():
        window.approver_id = window.approved_by_id
        if window.status in ACTIVE or window.approved_by_id == window.created_by_id:
            window.approved_by_id = None
            window.approved_at = None
        window.save(update_fields=["approver", "approved_by", "approved_at"])


class Migration(migrations.Migration):

    dependencies = [
        ('deployments', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='MaintenanceEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('requested', 'Requested'), ('approved', 'Approved'), ('cancelled', 'Cancelled')], max_length=12)),
                ('channel', models.CharField(default='web', max_length=10)),
                ('message', models.CharField(max_length=500)),
                ('created_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='maintenancewindow',
            name='maintenance_emergency_approved',
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='approver',
            field=models.ForeignKey(blank=True, help_text='Emergency: the CTO or VP Engineering who must approve it.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='maintenanceevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='maintenanceevent',
            name='window',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='deployments.maintenancewindow'),
        ),
        # Last: on PostgreSQL, altering a table after updating its rows in one transaction fails.
        migrations.RunPython(approver_from_recorded_approval, migrations.RunPython.noop),
    ]
