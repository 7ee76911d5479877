"""Public updates carry their own public title (issue 14, item 2).

Existing updates get a title derived from the components they set, the way the publish form
defaults it ("Degraded performance: API"); an update that set none takes the title of the
incident's previous update, or "Service disruption". The internal incident title is never used.
"""

from django.db import migrations, models

# Frozen copies: a migration must not import code that may change later.
RANK = ["operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"]
LABELS = {
    "under_maintenance": "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
FALLBACK = "Service disruption"


def _title(statuses: dict, names: dict) -> str:
    affected = [
        (status, names[str(pk)])
        for pk, status in (statuses or {}).items()
        if str(pk) in names and status in LABELS
    ]
    if not affected:
        return ""
    worst = max((s for s, _ in affected), key=RANK.index)
    return f"{LABELS[worst]}: {', '.join(name for _, name in affected)}"[:200]


def derive_titles(apps, schema_editor):
    PublicUpdate = apps.get_model("incidents", "PublicUpdate")
    Component = apps.get_model("incidents", "Component")
    names = {str(pk): name for pk, name in Component.objects.values_list("pk", "name")}
    previous: dict[int, str] = {}
    for update in PublicUpdate.objects.order_by("incident_id", "published_at", "id").iterator():
        title = (
            _title(update.component_statuses, names)
            or previous.get(update.incident_id)
            or FALLBACK
        )
        previous[update.incident_id] = title
        PublicUpdate.objects.filter(pk=update.pk).update(title=title)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_severity_pagerduty_urgency")]

    operations = [
        migrations.AddField(
            model_name="publicupdate",
            name="title",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
        migrations.RunPython(derive_titles, migrations.RunPython.noop),
    ]
