"""Email subscriptions to the status page: subscribe, confirm by link, unsubscribe.

Anyone can type anyone's address, so a confirmation goes out at most once per 15 minutes per
address, and the emailed links (confirm, unsubscribe) act only on the person's click.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, NotFoundError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_enqueue

from ..models import Subscriber
from ..senders import SUBSCRIPTION_CONFIRM


@dataclass(frozen=True)
class SubscribeResult:
    subscriber: Subscriber
    # "pending": a confirmation email is on its way; "active": already subscribed, no email;
    # "already_pending": one was sent a moment ago, no second email.
    outcome: str

    @property
    def emailed(self) -> bool:
        return self.outcome == "pending"


def _clean_email(email: str) -> str:
    address = (email or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ApplicationError(
            "That does not look like an email address.",
            fields={"email": ["Enter a valid email address, like name@example.com."]},
        ) from None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _send_confirmation(subscriber: Subscriber, now: dt.datetime) -> None:
    outbox_enqueue(
        target=SUBSCRIPTION_CONFIRM,
        key=f"status:sub{subscriber.pk}:confirm:{now:%Y%m%dT%H%M%S%f}",
        payload={"subscriber": subscriber.pk},
    )


# One pending confirmation per address at a time: anyone can type anyone's address, so
# repeated requests must not turn the status page into a way to flood an inbox.
CONFIRMATION_RESEND_AFTER = dt.timedelta(minutes=15)


def _confirmation_sent_since(subscriber: Subscriber, since: dt.datetime) -> bool:
    return OutboxMessage.objects.filter(
        target=SUBSCRIPTION_CONFIRM, payload__subscriber=subscriber.pk, created_at__gte=since
    ).exists()


@transaction.atomic
def subscriber_subscribe(*, email: str) -> SubscribeResult:
    """Ask to get updates by email: a confirmation link is sent unless the address is already
    active, or one was sent in the last 15 minutes (outcome "already_pending", no email)."""
    address = _clean_email(email)
    now = clock.now()
    subscriber = Subscriber.objects.select_for_update().filter(email__iexact=address).first()
    if subscriber is not None and subscriber.active:
        return SubscribeResult(subscriber, "active")
    if (
        subscriber is not None
        and subscriber.unsubscribed_at is None
        and _confirmation_sent_since(subscriber, now - CONFIRMATION_RESEND_AFTER)
    ):
        return SubscribeResult(subscriber, "already_pending")
    if subscriber is None:
        subscriber = Subscriber.objects.create(email=address)
    elif subscriber.unsubscribed_at is not None:
        # Coming back after leaving: confirm the address again, with a fresh link.
        subscriber.confirmed_at = subscriber.unsubscribed_at = None
        subscriber.token = Subscriber._meta.get_field("token").get_default()
        subscriber.save(update_fields=["confirmed_at", "unsubscribed_at", "token"])
    _send_confirmation(subscriber, now)
    return SubscribeResult(subscriber, "pending")


def _by_token(token: str) -> Subscriber:
    subscriber = Subscriber.objects.select_for_update().filter(token=token).first()
    if subscriber is None or not token:
        raise NotFoundError("This link is not valid (it may be old, or mistyped).")
    return subscriber


@transaction.atomic
def subscriber_confirm(*, token: str) -> Subscriber:
    subscriber = _by_token(token)
    if subscriber.unsubscribed_at is not None:
        raise Conflict(
            "This address was unsubscribed; subscribe again to get a new link.",
            code="unsubscribed",
        )
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = clock.now()
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, token: str) -> Subscriber:
    subscriber = _by_token(token)
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = clock.now()
        subscriber.save(update_fields=["unsubscribed_at"])
    return subscriber
