"""The list by severity pages on an index (issue 15): each incident carries a copy of its
severity's rank (``SeverityRankField``), and ``incident_severity_rank_order`` holds the order
``severity_rank, -detected_at, -id``, so the first page and a deep page from a keyset cursor are
range scans instead of a sort of every row joined to its severity.

The copy is filled here in one UPDATE per severity (a handful of ranks).

``incident_detected_at`` (0007) gains ``id``: the oldest-first order, ``detected_at, id``, is
then read in index order too, and the reports' date ranges use it as before.
"""

from django.db import migrations, models

import incidents.models.incident


def copy_ranks(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Severity = apps.get_model("incidents", "Severity")
    for severity_id, rank in Severity.objects.values_list("id", "rank"):
        Incident.objects.filter(severity_id=severity_id).update(severity_rank=rank)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0015_channel_mattermost")]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="severity_rank",
            field=incidents.models.incident.SeverityRankField(default=0, editable=False),
        ),
        migrations.RunPython(copy_ranks, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                fields=["severity_rank", "-detected_at", "-id"],
                name="incident_severity_rank_order",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["detected_at", "id"], name="incident_detected_at_id"),
        ),
        migrations.RemoveIndex(model_name="incident", name="incident_detected_at"),
    ]
