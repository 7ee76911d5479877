"""The status page's models moved out of incidents without moving a row (issue 17).

A database at the old migrations (the models still ``incidents.Component`` and friends) keeps
its components, public updates and subscribers once migrated forward: the same tables, now
read through ``statuspage.models``; and going back leaves them alone as well.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from nexusops.common import clock
from statuspage.models import Component, PublicUpdate, Subscriber
from tests.factories import ServiceFactory, incident

BEFORE = ("incidents", "0013_list_keyset_and_timeline_indexes")


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh graph, as the next `migrate` would read it


def _leaves() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_by_the_status_page_after_it():
    service = ServiceFactory(slug="api-gateway", name="API gateway")
    inc = incident(services=("api-gateway",))
    at = clock.now()
    try:
        executor = _migrate([BEFORE, ("statuspage", None)])
        applied = executor.loader.applied_migrations
        assert BEFORE in applied and ("statuspage", "0001_initial") not in applied
        old = executor.loader.project_state(BEFORE, at_end=True).apps
        component = old.get_model("incidents", "Component").objects.create(
            service_id=service.pk, name="Public API", status="partial_outage"
        )
        update = old.get_model("incidents", "PublicUpdate").objects.create(
            incident_id=inc.pk,
            stage="investigating",
            title="Partial outage: Public API",
            message="Looking into it.",
            component_statuses={str(component.pk): "partial_outage"},
            published_at=at,
        )
        sub = old.get_model("incidents", "Subscriber").objects.create(
            email="watcher@example.com", confirmed_at=at
        )
    finally:
        _migrate(_leaves())

    assert Component.objects.get().service_id == service.pk
    assert service.component.name == "Public API"  # the reverse one-to-one still works
    moved = PublicUpdate.objects.get()
    assert (moved.pk, moved.incident_id, moved.title) == (update.pk, inc.pk, update.title)
    assert moved.component_statuses == {str(component.pk): "partial_outage"}
    assert list(inc.public_updates.all()) == [moved]
    assert Subscriber.objects.get(pk=sub.pk).active
    # Rows written after the move land in the same tables as before it.
    assert Subscriber._meta.db_table == "incidents_subscriber"
    Subscriber.objects.create(email="second@example.com")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_subscriber")
        assert cursor.fetchone()[0] == 2
