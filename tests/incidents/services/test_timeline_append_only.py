import pytest
from django.db import DatabaseError, connection, transaction

from incidents.models import TimelineEvent
from tests.factories import incident

pytestmark = pytest.mark.django_db


def test_the_model_refuses_update_and_delete():
    event = incident().events.get()
    event.message = "rewritten history"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        TimelineEvent.objects.filter(pk=event.pk).update(message="x")
    with pytest.raises(TypeError, match="append-only"):
        TimelineEvent.objects.filter(pk=event.pk).delete()


def test_the_database_refuses_update_in_raw_sql():
    event = incident().events.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_timelineevent SET message = 'x' WHERE id = %s", [event.pk]
            )
    assert TimelineEvent.objects.get(pk=event.pk).message.startswith("Declared")


@pytest.mark.postgres
def test_postgresql_refuses_delete_in_raw_sql():
    event = incident().events.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_timelineevent WHERE id = %s", [event.pk])
    assert TimelineEvent.objects.filter(pk=event.pk).exists()
