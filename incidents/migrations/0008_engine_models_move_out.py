# The outbox, timers and inbound deliveries moved to the engine app (nexusops/engine).
# Only Django's state changes: the tables stay, and nexusops/engine's 0001 adopts them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_incident_detected_at_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name="InboundDelivery",
                ),
                migrations.RemoveField(
                    model_name="timer",
                    name="incident",
                ),
                migrations.DeleteModel(
                    name="OutboxMessage",
                ),
                migrations.DeleteModel(
                    name="Timer",
                ),
            ],
        ),
    ]
