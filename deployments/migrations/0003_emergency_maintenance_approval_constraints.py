"""The emergency approval constraints, once 0002 has moved existing approvals over."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("deployments", "0002_emergency_maintenance_approval")]

    operations = [
        migrations.AddConstraint(
            model_name='maintenancewindow',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'emergency'), _negated=True), ('approver__isnull', False), _connector='OR'), name='maintenance_emergency_names_approver'),
        ),
        migrations.AddConstraint(
            model_name='maintenancewindow',
            constraint=models.CheckConstraint(condition=models.Q(('approved_by__isnull', True), models.Q(('approved_by', models.F('approver')), ('approved_at__isnull', False)), _connector='OR'), name='maintenance_approved_by_the_approver'),
        ),
        migrations.AddConstraint(
            model_name='maintenancewindow',
            constraint=models.CheckConstraint(condition=models.Q(('approved_by__isnull', True), models.Q(('approved_by', models.F('created_by')), _negated=True), _connector='OR'), name='maintenance_not_approved_by_requester'),
        ),
    ]
