# On-call's models (rotations, overrides, pay policy, escalation policy and tiers) moved to the
# oncall app. Only Django's state changes: the tables stay, and oncall's 0001 adopts them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0017_channel_teams"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="EscalationTier"),
                migrations.DeleteModel(name="EscalationPolicy"),
                migrations.DeleteModel(name="RotationOverride"),
                migrations.DeleteModel(name="RotationMember"),
                migrations.DeleteModel(name="Rotation"),
                migrations.DeleteModel(name="PayPolicy"),
            ],
        ),
    ]
