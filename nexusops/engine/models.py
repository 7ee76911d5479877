"""The engine's rows: due moments, outbound calls and inbound deliveries.

The tables keep the names they had when these models lived in ``incidents`` (no data moved).
A timer or message may belong to an incident (its *subject*): the sweep locks the subject
before the row (DESIGN.md rule 11), so these foreign keys name the model by string and the
engine imports no domain code.
"""

from __future__ import annotations

from django.db import models


class Timer(models.Model):
    """One due moment (DESIGN.md rule 4). A beat sweep fires what is due; nothing sleeps.

    A handler that fails leaves the timer due with ``attempts`` counted, its ``last_error`` and
    a ``next_attempt_at`` (backoff; ``due_at`` keeps the moment it was meant for). After
    ``TIMER_MAX_ATTEMPTS`` it stops (``dead_at``) until a person retries it; a dead timer is
    still pending, so its subject's own changes still move or cancel it.
    """

    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="timers",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=40)
    due_at = models.DateTimeField()
    label: str  # not a column: what a page calls the timer, set by the page's selector
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed firings since it was armed or last retried."
    )
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="After a failed firing: not before this (backoff)."
    )
    last_error = models.TextField(blank=True)
    dead_at = models.DateTimeField(
        null=True, blank=True, help_text="Stopped after too many failures; waits for a Retry."
    )

    class Meta:
        db_table = "incidents_timer"
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="timer_pending_due",
                condition=models.Q(fired_at__isnull=True, cancelled_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fired_at__isnull=True) | models.Q(cancelled_at__isnull=True),
                name="timer_fired_or_cancelled_not_both",
            ),
            models.CheckConstraint(
                condition=models.Q(dead_at__isnull=True) | models.Q(fired_at__isnull=True),
                name="timer_dead_is_not_fired",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def pending(self) -> bool:
        return self.fired_at is None and self.cancelled_at is None

    @property
    def dead(self) -> bool:
        return self.pending and self.dead_at is not None


class OutboxMessage(models.Model):
    """One outbound call to a vendor (DESIGN.md rule 3).

    Written in the transaction of the change that caused it, dispatched by a task after
    commit, retried with backoff, swept up by a beat relay. ``key`` makes it at-most-once.
    A message may wait for another (``depends_on``: a post waits for its channel, or for the
    post before it); waiting costs no attempts.
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead"
        SKIPPED = "skipped", "Skipped"

    key = models.CharField(max_length=200, unique=True)
    target = models.CharField(max_length=60, help_text="Sender name, e.g. slack.post.")
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox",
    )
    payload = models.JSONField(default=dict)
    depends_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        # Deleting a prerequisite must not delete what waits for it; the relay releases it.
        on_delete=models.SET_NULL,
        related_name="dependants",
        help_text="Not attempted before this message is sent.",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current attempt started (its lease)."
    )
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "incidents_outboxmessage"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=models.Q(state__in=["pending", "retrying", "sending"]),
            ),
            models.Index(fields=["incident", "created_at"], name="outbox_incident"),
            # /metrics counts these by state and finds the oldest at every scrape; sent and
            # skipped messages (the history) stay out of the index and of the count.
            models.Index(
                fields=["state", "created_at"],
                name="outbox_unsettled",
                condition=models.Q(state__in=["waiting", "pending", "sending", "retrying", "dead"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="sent", sent_at__isnull=False) | ~models.Q(state="sent"),
                name="outbox_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} [{self.state}] {self.key}"

    @property
    def open(self) -> bool:
        return self.state in (
            self.State.WAITING,
            self.State.PENDING,
            self.State.SENDING,
            self.State.RETRYING,
        )


class InboundDelivery(models.Model):
    """A webhook delivery already processed, by the sender's own event id (replays do nothing)."""

    source = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "incidents_inbounddelivery"
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inbound_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id}"
