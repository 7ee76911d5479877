# The status page's models (Component, PublicUpdate, Subscriber) moved to the statuspage app.
# Only Django's state changes: the tables stay, and statuspage's 0001 adopts them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0013_list_keyset_and_timeline_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name="PublicUpdate",
                ),
                migrations.DeleteModel(
                    name="Subscriber",
                ),
                migrations.DeleteModel(
                    name="Component",
                ),
            ],
        ),
    ]
