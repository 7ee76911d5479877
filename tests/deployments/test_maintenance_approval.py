"""Issue 14, item 12: an emergency window is approved by the named approver acting, never by
the requester; until then it downgrades no alert and is not announced; the approval is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from deployments.models import MaintenanceEvent, MaintenanceWindow
from deployments.selectors import maintenance_reason
from deployments.services import (
    maintenance_cancel,
    maintenance_emergency_approve,
    maintenance_emergency_create,
)
from incidents.models import Profile
from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.timers import timers_sweep
from statuspage.models import Subscriber
from statuspage.selectors import status_page
from tests.factories import UserFactory
from tests.support.outbox import expand_fanouts

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def _exec(username: str, role: str, group: str = roles.MANAGER):
    user = UserFactory(username=username, role=group)
    Profile.objects.update_or_create(user=user, defaults={"org_role": role})
    user.refresh_from_db()
    return user


@pytest.fixture
def people(world):
    return {
        "requester": world["manager"],
        "cto": _exec("cto", Profile.OrgRole.CTO),
        "vp": _exec("vp", Profile.OrgRole.VP_ENGINEERING),
    }


def _request(actor, approver, *, start_in=dt.timedelta(hours=1)) -> MaintenanceWindow:
    start = clock.now() + start_in
    return maintenance_emergency_create(
        actor=actor, title="Patch OpenSSL", starts_at=start, ends_at=start + dt.timedelta(hours=2),
        services=["api-gateway"], approver=approver, approval_note="CVE-2026-0001",
    )  # fmt: skip


def test_unapproved_window_suppresses_and_announces_nothing(people):
    Subscriber.objects.create(email="a@example.com", confirmed_at=T0 - dt.timedelta(days=1))
    with clock.frozen(T0) as c:
        window = _request(people["requester"], people["cto"])
        assert window.approved_by is None and window.awaiting_approval
        c.set(T0 + dt.timedelta(hours=1, minutes=30))  # inside the window
        timers_sweep()  # notice and start timers are due
        assert maintenance_reason(service_slug="api-gateway", at=clock.now()) is None
        assert not OutboxMessage.objects.filter(target__startswith="email.maintenance").exists()
        assert status_page(now=clock.now())["maintenance"] == []

        maintenance_emergency_approve(window=window, actor=people["cto"], note="Go ahead")
        reason = maintenance_reason(service_slug="api-gateway", at=clock.now())
        assert reason and "Patch OpenSSL" in reason
        # Approval announces it: the notice was due and waited for it.
        assert expand_fanouts() == 1  # one row for the subscribers, expanded by a worker
        assert OutboxMessage.objects.filter(target="email.maintenance_notice").count() == 1
        (notice,) = status_page(now=clock.now())["maintenance"]
        assert notice.title.startswith("Patch OpenSSL")

    window.refresh_from_db()
    assert window.approved_by == people["cto"] and window.approved_at is not None
    events = list(window.events.values_list("kind", "actor__username"))
    assert events == [("requested", "dep-manager"), ("approved", "cto")]
    assert "Go ahead" in window.events.get(kind="approved").message


def test_only_the_named_approver_approves_and_never_the_requester(people):
    window = _request(people["requester"], people["cto"])
    for someone in (people["requester"], people["vp"]):
        with pytest.raises(PermissionDeniedError):
            maintenance_emergency_approve(window=window, actor=someone)
    window.refresh_from_db()
    assert window.awaiting_approval
    assert not window.events.filter(kind="approved").exists()

    # A CTO who requests cannot name themself; the VP must approve it.
    with pytest.raises(ApplicationError) as exc:
        _request(people["cto"], people["cto"])
    assert "approver" in exc.value.fields
    own = _request(people["cto"], people["vp"], start_in=dt.timedelta(days=1))
    with pytest.raises(PermissionDeniedError):
        maintenance_emergency_approve(window=own, actor=people["cto"])
    maintenance_emergency_approve(window=own, actor=people["vp"])
    assert not MaintenanceWindow.objects.get(pk=own.pk).awaiting_approval


def test_database_refuses_an_approval_by_anyone_else(people):
    from django.db import IntegrityError, transaction

    window = _request(people["requester"], people["cto"])
    with pytest.raises(IntegrityError), transaction.atomic():
        MaintenanceWindow.objects.filter(pk=window.pk).update(
            approved_by=people["requester"], approved_at=clock.now()
        )


def test_approving_twice_is_harmless_and_cancelled_cannot_be_approved(people):
    window = _request(people["requester"], people["cto"])
    maintenance_emergency_approve(window=window, actor=people["cto"])
    maintenance_emergency_approve(window=window, actor=people["cto"])
    assert window.events.filter(kind="approved").count() == 1
    other = _request(people["requester"], people["cto"], start_in=dt.timedelta(days=2))
    maintenance_cancel(window=other, actor=people["requester"])
    with pytest.raises(ApplicationError):
        maintenance_emergency_approve(window=other, actor=people["cto"])
    assert MaintenanceEvent.objects.filter(window=other, kind="cancelled").count() == 1


def test_the_approver_approves_in_the_console(client, people):
    window = _request(people["requester"], people["cto"])
    client.force_login(people["requester"])
    page = client.get(reverse("maintenance-list")).content.decode()
    assert "waiting for" in page and reverse("maintenance-approve", args=[window.pk]) not in page
    assert client.post(reverse("maintenance-approve", args=[window.pk])).status_code == 403

    client.force_login(people["cto"])
    page = client.get(reverse("maintenance-list")).content.decode()
    assert reverse("maintenance-approve", args=[window.pk]) in page
    response = client.post(reverse("maintenance-approve", args=[window.pk]), {"note": "ok"})
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.approved_by == people["cto"]
    page = client.get(reverse("maintenance-list")).content.decode()
    assert "approved the emergency window: ok" in page
