import datetime as dt
import threading

import pytest
from django.db import connection

from incidents.models import ChecklistItem, Incident, TimelineEvent
from incidents.services import incident_declare
from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from nexusops.engine.models import Timer
from tests.factories import ServiceFactory, UserFactory, incident, severities

T0 = dt.datetime(2026, 11, 26, 23, 58, tzinfo=dt.UTC)


@pytest.fixture
def ic(db):
    severities()
    ServiceFactory(slug="api-gateway")
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


@pytest.mark.django_db
def test_declare_numbers_per_utc_day_and_sets_everything_up(ic):
    with clock.frozen(T0) as t:
        first = incident_declare(
            title="Checkout failing", severity="P1", services=["api-gateway"], actor=ic
        )
        second = incident_declare(title="Slow search", severity="p2", actor=ic)
        t.advance(minutes=3)  # past midnight UTC
        third = incident_declare(title="Login broken", severity="P0", actor=ic)
    assert [first.number, second.number, third.number] == [
        "INC-20261126-001",
        "INC-20261126-002",
        "INC-20261127-001",
    ]
    assert first.status == "triggered" and first.source == "web" and first.created_by == ic
    assert ChecklistItem.objects.filter(incident=first).count() == 21
    assert ChecklistItem.objects.get(incident=first, key="identify_systems").done_by == ic
    assert set(Timer.objects.filter(incident=first).values_list("kind", "due_at")) == {
        ("ack_deadline", T0 + dt.timedelta(hours=1)),
        ("first_update", T0 + dt.timedelta(minutes=15)),
    }
    assert first.sla_next_kind == "first_update"
    assert set(Timer.objects.filter(incident=second).values_list("kind", flat=True)) == {
        "ack_deadline"
    }
    event = first.events.get()
    assert (event.kind, event.actor, event.channel) == ("declared", ic, "web")
    assert event.message == "Declared P1: Checkout failing (api-gateway)."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": "P7"}, "severity"),
        ({"services": ["no-such-service"]}, "services"),
        ({"impact_percent": 150}, "impact_percent"),
        ({"impact_users": -1}, "impact_users"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(ic, kwargs, field):
    args = {"title": "Checkout failing", "severity": "P1", "services": ["api-gateway"], "actor": ic}
    with pytest.raises(ApplicationError) as err:
        incident_declare(**{**args, **kwargs})
    assert field in err.value.fields
    assert Incident.objects.count() == 0
    assert TimelineEvent.objects.count() == 0
    assert Timer.objects.count() == 0


@pytest.mark.django_db
def test_a_title_of_exactly_200_characters_is_fine(ic):
    assert len(incident_declare(title="x" * 200, severity="P3", actor=ic).title) == 200


@pytest.mark.django_db
def test_a_stakeholder_cannot_declare(ic):
    with pytest.raises(PermissionDeniedError):
        incident_declare(title="x", severity="P1", actor=UserFactory(role=roles.STAKEHOLDER))
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_html_in_a_title_is_kept_as_text(ic):
    inc = incident(title="<script>alert(1)</script>", actor=ic)
    assert inc.title == "<script>alert(1)</script>"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_declarations_get_distinct_consecutive_numbers():
    severities()
    n = 12
    barrier = threading.Barrier(n)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def declare(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            numbers.append(
                incident_declare(title=f"parallel {i}", severity="P2", actor=None).number
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with clock.frozen(T0):
        threads = [threading.Thread(target=declare, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    assert sorted(numbers) == [f"INC-20261126-{i:03d}" for i in range(1, n + 1)]
