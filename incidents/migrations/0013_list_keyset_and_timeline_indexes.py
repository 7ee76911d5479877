"""Indexes that keep the list's deep pages and the command page flat (issue 15, bench/README.md).

* ``incident_open_first_desc`` replaces ``incident_open_first`` (0005): the list's default
  order, open incidents first then newest, is now one direction throughout
  (``-open_first, -detected_at, -id``), so the keyset condition of a deep page is one row
  value, ``(open_first, detected_at, id) < (...)``, and PostgreSQL answers it with one range
  scan of this index instead of reading every row before the page. The expression must stay
  identical to the selector's ``open_first`` (``selectors.incident_list``). PostgreSQL only,
  raw SQL like 0005.
* ``incident_sla_order``, ``incident_severity_sla_order``: the list by next SLA deadline
  (``?sort=sla``, ``?severity=P1&ordering=sla``) in index order, from the cursor on.
* ``timeline_incident_newest``: the command page's newest 50 events in the timeline's order
  (``-created_at, -id``) without sorting every event of the incident.
* ``timeline_incident_kinds``: the timeline's kind filter lists the kinds with a skip scan per
  visibility (``selectors.timeline_kinds``), a handful of index probes at any size.
"""

from django.db import migrations, models

OPEN = "'triggered', 'acknowledged', 'investigating', 'mitigated'"
UP = [
    "CREATE INDEX IF NOT EXISTS incident_open_first_desc ON incidents_incident "
    f"((CASE WHEN status IN ({OPEN}) THEN 1 ELSE 0 END) DESC, detected_at DESC, id DESC)",
    "DROP INDEX IF EXISTS incident_open_first",
]
DOWN = [
    "CREATE INDEX IF NOT EXISTS incident_open_first ON incidents_incident "
    f"((CASE WHEN status IN ({OPEN}) THEN 0 ELSE 1 END), detected_at DESC, id DESC)",
    "DROP INDEX IF EXISTS incident_open_first_desc",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("incidents", "0012_profile_time_zone_blank_means_not_chosen")]

    operations = [
        migrations.RunPython(_run(UP), _run(DOWN)),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                fields=["sla_next_due_at", "-detected_at", "-id"], name="incident_sla_order"
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                fields=["severity", "sla_next_due_at", "-detected_at", "-id"],
                name="incident_severity_sla_order",
            ),
        ),
        migrations.AddIndex(
            model_name="timelineevent",
            index=models.Index(
                fields=["incident", "-created_at", "-id"], name="timeline_incident_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="timelineevent",
            index=models.Index(
                fields=["incident", "visibility", "kind"], name="timeline_incident_kinds"
            ),
        ),
    ]
