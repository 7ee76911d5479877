"""Outbox senders of maintenance notices: Atlassian Statuspage (a scheduled maintenance) and
email to status page subscribers. ``register()`` is called from ``DeploymentsConfig.ready()``."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.core.mail import send_mail

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_fanout, register_sender
from nexusops.integrations.statuspage.client import StatuspageClient
from statuspage.models import Component, Subscriber
from statuspage.senders import active_subscribers, statuspage_enabled

from .models import MaintenanceWindow
from .services import gates
from .services.maintenance import EMAIL_ALL_TARGET, EMAIL_TARGET, STATUSPAGE_TARGET


def _window(message: OutboxMessage) -> MaintenanceWindow:
    return MaintenanceWindow.objects.get(pk=message.payload["window"])


def _component_ids(window: MaintenanceWindow) -> list[str]:
    components = Component.objects.exclude(statuspage_id="")
    services = list(window.services.all())
    if services:
        components = components.filter(service__in=services)
    return list(components.values_list("statuspage_id", flat=True))


def send_statuspage_maintenance(message: OutboxMessage) -> dict:
    window = _window(message)
    if window.statuspage_id:
        return {"id": window.statuspage_id, "created": False}
    created = StatuspageClient.default().maintenance_create(
        window.title, window.starts_at, window.ends_at, window.public_note,
        _component_ids(window),
    )  # fmt: skip
    return {"id": created["id"], "created": True}


def _remember(message: OutboxMessage, result: dict) -> None:
    MaintenanceWindow.objects.filter(pk=message.payload["window"], statuspage_id="").update(
        statuspage_id=result.get("id", "")
    )


def notice_email(window: MaintenanceWindow, subscriber: Subscriber) -> tuple[str, str]:
    services = ", ".join(s.name for s in window.services.all()) or "all NEXUS services"
    subject = f"Scheduled maintenance: {window.title}"
    body = (
        f"{window.title}\n\n"
        f"When: {window.starts_at:%A %d %B %Y, %H:%M}–{window.ends_at:%H:%M} UTC\n"
        f"Affects: {services}\n\n{window.public_note}\n\n"
        f"Status page: {settings.SITE_URL}/status/\n"
        f"Unsubscribe: {settings.SITE_URL}/status/unsubscribe/{subscriber.token}/\n"
    )
    return subject, body


def send_notice_email(message: OutboxMessage) -> dict:
    subscriber = Subscriber.objects.filter(pk=message.payload["subscriber"]).first()
    if subscriber is None or not subscriber.active:
        return {"skipped": "no longer subscribed"}
    subject, body = notice_email(_window(message), subscriber)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [subscriber.email])
    return {"to": subscriber.email}


def _notice_recipients(message: OutboxMessage) -> Iterator[tuple[str, dict]]:
    window = message.payload["window"]
    for pk in active_subscribers().order_by("pk").values_list("pk", flat=True).iterator():
        yield f"{message.key}:{pk}", {"window": window, "subscriber": pk}


def register() -> None:
    register_sender(
        STATUSPAGE_TARGET, send=send_statuspage_maintenance, enabled=statuspage_enabled,
        on_sent=_remember, label="Statuspage scheduled maintenance",
    )  # fmt: skip
    # may_repeat: SMTP takes no idempotency key (see statuspage.senders).
    register_sender(
        EMAIL_TARGET, send=send_notice_email, enabled=lambda: True,
        label="Maintenance notice email", may_repeat=True,
    )  # fmt: skip
    register_fanout(
        EMAIL_ALL_TARGET, target=EMAIL_TARGET, recipients=_notice_recipients,
        label="Maintenance notice email to subscribers",
    )  # fmt: skip
    gates.register()
