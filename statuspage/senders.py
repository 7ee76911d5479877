"""Senders for the status page's outbox rows (DESIGN.md rule 3).

``register()`` is called once from ``StatuspageConfig.ready()``. Email is always on (the
console backend in embedded mode); Atlassian Statuspage only when ``STATUSPAGE_API_URL``,
``STATUSPAGE_API_KEY`` and ``STATUSPAGE_PAGE_ID`` are set. Each sender loads its rows by id,
builds the message with :mod:`statuspage.messages` and sends it; a second run after a
failure part-way is harmless (Statuspage is created once, then updated, in publishing
order). E-mails are ``may_repeat``: SMTP takes no idempotency key, so a worker that dies
between handing a mail over and recording it sends it again. A public update goes to
subscribers as one fan-out row (``UPDATE_EMAIL_ALL``) that a worker expands.

Creating a Statuspage incident is not idempotent on the vendor's side, so the create carries
the console's reference in the incident's ``metadata`` and any attempt after the first (and the
outbox's ``reconcile``, when a worker died mid-call) looks it up before creating again.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import QuerySet

from incidents.models import Incident
from nexusops.common.errors import RetryableError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_fanout, register_sender
from nexusops.integrations.statuspage.client import StatuspageClient

from . import messages
from .models import PublicUpdate, Subscriber

UPDATE_EMAIL = "email.public_update"
UPDATE_EMAIL_ALL = "email.public_update.subscribers"
SUBSCRIPTION_CONFIRM = "email.subscription_confirm"
STATUSPAGE_SYNC = "statuspage.incident_sync"
METADATA_KEY = "nexusops"  # incident.metadata["nexusops"]["incident_number"] on Statuspage


def email_enabled() -> bool:
    return True


def statuspage_enabled() -> bool:
    return bool(
        getattr(settings, "STATUSPAGE_API_URL", "")
        and getattr(settings, "STATUSPAGE_API_KEY", "")
        and getattr(settings, "STATUSPAGE_PAGE_ID", "")
    )


def _update(message: OutboxMessage) -> PublicUpdate:
    return PublicUpdate.objects.select_related("incident").get(pk=message.payload["update"])


def send_public_update_email(message: OutboxMessage) -> dict:
    subscriber = Subscriber.objects.filter(pk=message.payload["subscriber"]).first()
    if subscriber is None or not subscriber.active:
        return {"skipped": "no longer subscribed"}
    update = _update(message)
    email = messages.public_update_email(update, subscriber, messages.update_components(update))
    send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [subscriber.email])
    return {"to": subscriber.email}


def active_subscribers() -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


def _update_recipients(message: OutboxMessage) -> Iterator[tuple[str, dict]]:
    # The per-subscriber keys are those one row per subscriber always had.
    prefix = message.key.removesuffix(":subscribers")
    update = message.payload["update"]
    for pk in active_subscribers().order_by("pk").values_list("pk", flat=True).iterator():
        yield f"{prefix}:sub{pk}", {"update": update, "subscriber": pk}


def send_subscription_confirm(message: OutboxMessage) -> dict:
    subscriber = Subscriber.objects.filter(pk=message.payload["subscriber"]).first()
    if subscriber is None or subscriber.active or subscriber.unsubscribed_at is not None:
        return {"skipped": "nothing to confirm"}
    email = messages.confirmation_email(subscriber)
    send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [subscriber.email])
    return {"to": subscriber.email}


class EarlierUpdatePending(RetryableError):
    """An earlier update of this incident is not on Statuspage yet; keep the order."""


def _earlier_pending(message: OutboxMessage) -> bool:
    open_states = (
        OutboxMessage.State.PENDING,
        OutboxMessage.State.SENDING,
        OutboxMessage.State.RETRYING,
    )
    return OutboxMessage.objects.filter(
        incident_id=message.incident_id,
        target=STATUSPAGE_SYNC,
        pk__lt=message.pk,
        state__in=open_states,
    ).exists()


def send_statuspage_sync(message: OutboxMessage) -> dict:
    """Create the Statuspage incident with the first update, then update it with each next."""
    if _earlier_pending(message):
        raise EarlierUpdatePending(
            f"an earlier update of {message.incident_id} is still on its way", retry_after=2
        )
    update = _update(message)
    incident = Incident.objects.only("statuspage_incident_id", "number").get(pk=update.incident_id)
    body = messages.statuspage_incident(update, messages.update_components(update))
    client = StatuspageClient.default()
    if not incident.statuspage_incident_id:
        if message.attempts > 1:  # an earlier attempt may have created it before failing
            found = _statuspage_find(client, incident.number)
            if found is not None:
                return found
        created = client.incident_create(
            body["name"],
            body["status"],
            body["body"],
            component_statuses=body["component_statuses"],
            metadata={METADATA_KEY: {"incident_number": incident.number}},
        )
        return {"statuspage_incident_id": created["id"], "created": True}
    client.incident_update(
        incident.statuspage_incident_id,
        status=body["status"],
        body=body["body"],
        component_statuses=body["component_statuses"],
    )
    return {"statuspage_incident_id": incident.statuspage_incident_id, "created": False}


def _statuspage_find(client: StatuspageClient, number: str) -> dict | None:
    def ours(candidate: dict) -> bool:
        meta = (candidate.get("metadata") or {}).get(METADATA_KEY) or {}
        return meta.get("incident_number") == number

    found = client.incident_find(ours, q=number)
    if found is None:
        return None
    return {"statuspage_incident_id": found["id"], "created": True, "reconciled": True}


def reconcile_statuspage_sync(message: OutboxMessage) -> dict | None:
    """A worker died mid-call: if this row was the create and Statuspage has the incident,
    it is delivered (its body was the create's first update). An update is sent again."""
    update = _update(message)
    incident = Incident.objects.only("statuspage_incident_id", "number").get(pk=update.incident_id)
    if incident.statuspage_incident_id:
        return None
    return _statuspage_find(StatuspageClient.default(), incident.number)


def _remember_statuspage_id(message: OutboxMessage, result: dict) -> None:
    # A plain UPDATE: where the incident lives on Statuspage is not an edit (no version bump).
    if result.get("created"):
        Incident.objects.filter(pk=message.incident_id, statuspage_incident_id="").update(
            statuspage_incident_id=result["statuspage_incident_id"]
        )


def register() -> None:
    register_sender(
        UPDATE_EMAIL,
        send=send_public_update_email,
        enabled=email_enabled,
        label="Status update email",
        may_repeat=True,
    )
    register_fanout(
        UPDATE_EMAIL_ALL,
        target=UPDATE_EMAIL,
        recipients=_update_recipients,
        label="Status update email to subscribers",
    )
    register_sender(
        SUBSCRIPTION_CONFIRM,
        send=send_subscription_confirm,
        enabled=email_enabled,
        label="Subscription confirmation email",
        may_repeat=True,
    )
    register_sender(
        STATUSPAGE_SYNC,
        send=send_statuspage_sync,
        enabled=statuspage_enabled,
        reconcile=reconcile_statuspage_sync,
        on_sent=_remember_statuspage_id,
        label="Statuspage incident",
        off_reason="Statuspage is not configured "
        "(STATUSPAGE_API_URL, STATUSPAGE_API_KEY, STATUSPAGE_PAGE_ID)",
    )
