"""The database itself refuses to change the timeline (DESIGN.md rule 2).

PostgreSQL: a trigger raises on UPDATE and DELETE (TRUNCATE, used only to reset test
databases, is a separate statement and stays possible). SQLite: UPDATE is refused by a
trigger; DELETE is left to the model guards, because Django's test flush deletes rows there.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION incidents_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incidents_timelineevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_timeline_append_only
    BEFORE UPDATE OR DELETE ON incidents_timelineevent
    FOR EACH ROW EXECUTE FUNCTION incidents_timeline_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS incidents_timeline_append_only ON incidents_timelineevent;
DROP FUNCTION IF EXISTS incidents_timeline_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER incidents_timeline_no_update BEFORE UPDATE ON incidents_timelineevent
BEGIN SELECT RAISE(ABORT, 'incidents_timelineevent is append-only: UPDATE refused'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS incidents_timeline_no_update;"


def forwards(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif conn.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif conn.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_incident_timeline_checklist_timers")]
    operations = [migrations.RunPython(forwards, backwards)]
