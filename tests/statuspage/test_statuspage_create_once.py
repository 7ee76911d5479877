"""A Statuspage incident is created once, even when the create's worker dies mid-call."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from nexusops.integrations.statuspage.client import StatuspageClient
from statuspage.services import public_update_publish
from tests.conftest import _await_ready
from tests.factories import incident, severities
from tests.support.outbox import redeliver_after_the_lease
from tests.support.standin_fixtures import STATUSPAGE_PAGE
from tests.support.worker import WorkerProcess, wait_for

PAGE = f"/v1/pages/{STATUSPAGE_PAGE}"


def _creates(statuspage) -> list[dict]:  # noqa: ANN001
    return [r for r in statuspage.received(f"{PAGE}/incidents") if r["method"] == "POST"]


def _on_statuspage(statuspage) -> list[dict]:  # noqa: ANN001
    return list(statuspage.state().get(STATUSPAGE_PAGE, {}).get("incidents", {}).values())


@pytest.mark.django_db
def test_the_create_carries_the_console_reference_in_metadata(components, ic, statuspage):
    inc = incident("API errors", services=("api-gateway",))
    public_update_publish(
        incident=inc, actor=ic, stage="investigating", message="Looking.", title="API errors"
    )
    message = OutboxMessage.objects.get(target="statuspage.incident_sync")

    assert outbox_deliver(message_id=message.pk) == "sent", message.last_error

    [create] = _creates(statuspage)
    assert create["body"]["incident"]["metadata"] == {"nexusops": {"incident_number": inc.number}}
    assert create["body"]["incident"]["name"] == "API errors"  # the public name is unchanged


@pytest.mark.django_db
def test_a_retried_create_finds_the_incident_an_earlier_attempt_made(components, ic, statuspage):
    """The first attempt reached Statuspage but its answer was lost (a timeout): the retry
    looks the incident up by the console's reference instead of opening a second one."""
    inc = incident("API errors", services=("api-gateway",))
    public_update_publish(incident=inc, actor=ic, stage="investigating", message="Looking.")
    message = OutboxMessage.objects.get(target="statuspage.incident_sync")
    earlier = StatuspageClient.default().incident_create(
        "API errors",
        "investigating",
        "Looking.",
        metadata={"nexusops": {"incident_number": inc.number}},
    )
    OutboxMessage.objects.filter(pk=message.pk).update(state="retrying", attempts=1)

    assert outbox_deliver(message_id=message.pk) == "sent"

    assert len(_creates(statuspage)) == 1  # only the earlier one
    message.refresh_from_db()
    assert message.result == {
        "statuspage_incident_id": earlier["id"],
        "created": True,
        "reconciled": True,
    }
    assert Incident.objects.get(pk=inc.pk).statuspage_incident_id == earlier["id"]


@pytest.mark.django_db
def test_another_incident_with_the_same_name_is_not_taken_for_ours(components, ic, statuspage):
    inc = incident("API errors", services=("api-gateway",))
    public_update_publish(incident=inc, actor=ic, stage="investigating", message="Looking.")
    message = OutboxMessage.objects.get(target="statuspage.incident_sync")
    StatuspageClient.default().incident_create(
        "API errors",
        "investigating",
        f"Looking ({inc.number}).",
        metadata={"nexusops": {"incident_number": "INC-20200101-001"}},
    )
    OutboxMessage.objects.filter(pk=message.pk).update(state="retrying", attempts=1)

    assert outbox_deliver(message_id=message.pk) == "sent"

    assert len(_creates(statuspage)) == 2
    assert len(_on_statuspage(statuspage)) == 2


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_create_leaves_exactly_one_statuspage_incident(
    settings, components, ic, statuspage
):
    severities()
    settings.OUTBOX_LEASE_SECONDS = 2
    settings.OUTBOX_RELAY_GRACE_SECONDS = 0
    env = {**statuspage.env, "OUTBOX_LEASE_SECONDS": "2"}
    inc = incident("API errors", services=("api-gateway",))

    first = WorkerProcess(extra_env=env).start()
    try:
        _await_ready(first)
        statuspage.inject(latency_ms=3000)  # slow: the worker is killed while it waits
        public_update_publish(incident=inc, actor=ic, stage="investigating", message="Looking.")
        wait_for(lambda: _creates(statuspage), timeout=90, message="the worker to call Statuspage")
        first.kill()
    finally:
        first.stop()
    message = OutboxMessage.objects.get(target="statuspage.incident_sync")
    assert message.state == "sending"  # claimed; nobody knows whether Statuspage has it
    # Statuspage finishes creating it although nobody is listening any more.
    wait_for(lambda: _on_statuspage(statuspage), timeout=10, message="Statuspage to create it")
    message = redeliver_after_the_lease(message, env)
    assert message.attempts == 2 and message.result.get("reconciled") is True
    [created] = _on_statuspage(statuspage)
    assert len(_creates(statuspage)) == 1
    assert Incident.objects.get(pk=inc.pk).statuspage_incident_id == created["id"]
