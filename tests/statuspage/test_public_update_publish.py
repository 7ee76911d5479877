"""public_update_publish: the update, its timeline event, the SLA, components and the outbox."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from incidents.models import ChecklistItem, TimelineEvent
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_deliver
from statuspage import senders
from statuspage.models import ComponentStatus, PublicUpdate, Subscriber
from statuspage.services import public_update_publish, stage_templates
from tests.factories import incident
from tests.support.outbox import expand_fanouts

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.UTC)


def _subscribers(*emails: str, confirmed: bool = True) -> list[Subscriber]:
    return [
        Subscriber.objects.create(email=e, confirmed_at=T0 if confirmed else None) for e in emails
    ]


def test_publish_writes_update_timeline_components_and_satisfies_first_update(components, ic):
    active = _subscribers("a@example.com", "b@example.com")
    _subscribers("pending@example.com", confirmed=False)
    gone = _subscribers("gone@example.com")[0]
    gone.unsubscribed_at = T0
    gone.save()
    with clock.frozen(T0):
        inc = incident(services=("api-gateway", "auth-service"))
        version = inc.version
        assert Timer.objects.filter(incident=inc, kind="first_update", fired_at=None).exists()
    with clock.frozen(T0 + dt.timedelta(minutes=5)):
        update = public_update_publish(
            incident=inc,
            actor=ic,
            stage="investigating",
            message="We are investigating errors on the API.",
            component_statuses={
                "api-gateway": ComponentStatus.MAJOR_OUTAGE,
                components["auth-service"].pk: "degraded_performance",
            },
        )

    assert update.stage == "investigating" and update.author == ic
    api, auth = components["api-gateway"], components["auth-service"]
    api.refresh_from_db()
    auth.refresh_from_db()
    assert (api.status, auth.status) == ("major_outage", "degraded_performance")
    assert update.component_statuses == {
        str(api.pk): "major_outage",
        str(auth.pk): "degraded_performance",
    }
    event = TimelineEvent.objects.get(incident=inc, kind="public_update")
    assert event.visibility == TimelineEvent.Visibility.PUBLIC
    assert event.data["public_update"] == update.pk
    assert "We are investigating errors on the API." in event.message

    inc.refresh_from_db()
    assert inc.first_update_at == T0 + dt.timedelta(minutes=5)
    assert inc.version > version
    done = set(
        ChecklistItem.objects.filter(incident=inc, done_at__isnull=False).values_list(
            "key", flat=True
        )
    )
    assert {"initial_update", "update_status_page"} <= done
    timer = Timer.objects.get(incident=inc, kind="first_update")
    assert timer.cancelled_at is not None and timer.fired_at is None

    assert expand_fanouts() == 1
    emails = OutboxMessage.objects.filter(target=senders.UPDATE_EMAIL).order_by("key")
    assert [m.key for m in emails] == [
        f"{inc.number}:pu{update.pk}:sub{s.pk}" for s in sorted(active, key=lambda s: s.pk)
    ]
    # Statuspage is not configured in this test: no row for it.
    assert not OutboxMessage.objects.filter(target=senders.STATUSPAGE_SYNC).exists()

    for message in emails:
        assert outbox_deliver(message_id=message.pk) == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    body = mail.outbox[0].body
    assert "We are investigating errors on the API." in body
    assert "API: Major outage" in body and "/status/unsubscribe/" in body
    assert "Investigating" in mail.outbox[0].subject


def test_a_later_update_does_not_touch_first_update_again(components, ic):
    with clock.frozen(T0):
        inc = incident()
        public_update_publish(incident=inc, actor=ic, stage="investigating", message="Looking.")
    inc.refresh_from_db()
    first = inc.first_update_at
    with clock.frozen(T0 + dt.timedelta(minutes=30)):
        public_update_publish(incident=inc, actor=ic, stage="identified", message="Found it.")
    inc.refresh_from_db()
    assert inc.first_update_at == first
    assert PublicUpdate.objects.filter(incident=inc).count() == 2
    assert ChecklistItem.objects.get(incident=inc, key="status_page_progress").done


@pytest.mark.parametrize("user", ["responder", "stakeholder"])
def test_only_a_commander_or_manager_may_publish(components, user, request):
    actor = request.getfixturevalue(user)
    inc = incident()
    with pytest.raises(PermissionDeniedError):
        public_update_publish(incident=inc, actor=actor, stage="investigating", message="Hi.")
    assert not PublicUpdate.objects.exists()
    assert not TimelineEvent.objects.filter(kind="public_update").exists()


@pytest.mark.parametrize(
    ("stage", "message", "statuses", "field"),
    [
        ("panicking", "Something.", {}, "stage"),
        ("investigating", "   ", {}, "message"),
        ("investigating", "x" * 5001, {}, "message"),
        ("investigating", "Something.", {"api-gateway": "on_fire"}, "components"),
        ("investigating", "Something.", {"no-such-service": "major_outage"}, "components"),
        ("investigating", "Something.", {999999: "major_outage"}, "components"),
    ],
)
def test_bad_input_changes_nothing(components, ic, stage, message, statuses, field):
    inc = incident()
    version = inc.version
    with pytest.raises(ApplicationError) as err:
        public_update_publish(
            incident=inc, actor=ic, stage=stage, message=message, component_statuses=statuses
        )
    assert field in err.value.fields
    inc.refresh_from_db()
    assert inc.version == version and inc.first_update_at is None
    assert not PublicUpdate.objects.exists()
    assert set(c.status for c in components.values()) == {"operational"}


def test_resolved_restores_components_unless_another_open_incident_holds_them(components, ic):
    one = incident("Login failures", services=("api-gateway", "auth-service"))
    other = incident("Upload errors", services=("auth-service",))
    public_update_publish(
        incident=one,
        actor=ic,
        stage="investigating",
        message="Errors.",
        component_statuses={"api-gateway": "major_outage", "auth-service": "partial_outage"},
    )
    update = public_update_publish(incident=one, actor=ic, stage="resolved", message="Fixed.")

    api, auth = components["api-gateway"], components["auth-service"]
    api.refresh_from_db()
    auth.refresh_from_db()
    assert api.status == "operational"
    assert auth.status == "partial_outage"  # "Upload errors" is still open on it
    assert update.component_statuses == {str(api.pk): "operational"}
    assert ChecklistItem.objects.get(incident=one, key="status_page_resolved").done
    assert other.status == "triggered"


def test_a_closed_incident_takes_no_updates(components, ic):
    inc = incident()
    type(inc).objects.filter(pk=inc.pk).update(status="closed")
    with pytest.raises(Conflict):
        public_update_publish(incident=inc, actor=ic, stage="resolved", message="Done.")


def test_stage_templates_name_the_public_components(components):
    inc = incident(services=("api-gateway", "auth-service"))
    texts = stage_templates(inc)
    assert set(texts) == {"investigating", "identified", "monitoring", "resolved"}
    assert texts["investigating"].startswith("We are investigating reports of errors")
    assert "API and Login" in texts["investigating"]
    assert "Next update within 30 minutes." in texts["investigating"]
