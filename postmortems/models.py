"""The review after an incident (runbook 2.2 step 6) and what it commits to.

A post-mortem belongs to one incident. Its text is edited in place with a version for
last-writer detection; each approval freezes the text as a numbered ``PostMortemRevision``,
and stakeholders read the published revision, never the draft being edited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from incidents.models import Incident, Service, TimelineEvent

# The document's sections, in order: (field, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("root_cause", "Root cause"),
    ("contributing_factors", "Contributing factors"),
    ("detection", "Detection"),
    ("response", "Response"),
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("lessons", "Lessons"),
)
SECTION_FIELDS = tuple(name for name, _ in SECTIONS)


class PostMortemPolicy(models.Model):
    """The rules a manager may change in the admin (DESIGN.md rule 8); one row."""

    required_severities = models.CharField(
        max_length=40, default="P0,P1", help_text="Comma-separated severity codes."
    )
    schedule_within = models.DurationField(default=dt.timedelta(hours=48))
    meeting_reminder_before = models.DurationField(default=dt.timedelta(hours=1))
    action_item_reminder_before = models.DurationField(default=dt.timedelta(days=2))
    allow_self_approval = models.BooleanField(
        default=False, help_text="May a manager approve a post-mortem they wrote or submitted?"
    )

    class Meta:
        verbose_name_plural = "post-mortem policy"

    def __str__(self) -> str:
        return "Post-mortem policy"

    @property
    def required_codes(self) -> set[str]:
        return {c.strip().upper() for c in self.required_severities.split(",") if c.strip()}


class PostMortem(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    required = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it exists.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(default=1)
    published_revision = models.PositiveIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    impact_users = models.PositiveIntegerField(null=True, blank=True)
    impact_services = models.ManyToManyField(Service, blank=True, related_name="+")
    root_cause = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)
    detection = models.TextField(blank=True)
    response = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    went_wrong = models.TextField(blank=True)
    lessons = models.TextField(blank=True)
    due_at = models.DateTimeField(help_text="The meeting must be scheduled by then.")
    meeting_at = models.DateTimeField(null=True, blank=True)
    meeting_scheduled_at = models.DateTimeField(null=True, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    overdue_at = models.DateTimeField(null=True, blank=True, help_text="When it was flagged.")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_name = models.CharField(max_length=150, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("edit_postmortem", "Can write post-mortems and action items"),
            ("review_postmortem", "Can approve and publish post-mortems"),
            ("view_draft", "Can read post-mortems before they are published"),
            ("view_reports", "Can read the reports dashboard"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="pm_unscheduled_due",
                condition=models.Q(meeting_scheduled_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published_revision__isnull=True)
                | models.Q(published_at__isnull=False),
                name="pm_published_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"Post-mortem of {self.incident.number}"

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.meeting_scheduled_at is None and now >= self.due_at


class PostMortemRevision(models.Model):
    """The text as approved; stakeholders read the published one."""

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_name = models.CharField(max_length=150)
    approved_at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["postmortem", "number"], name="pm_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.postmortem} r{self.number}"


class PostMortemReview(models.Model):
    """One step of the review: submitted, changes requested, approved, published."""

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="reviews")
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} r{self.revision} by {self.actor_name}"


class PostMortemTimelineEntry(models.Model):
    """A line of the post-mortem's own timeline: generated from the incident's, then edited."""

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="entries")
    source = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField()
    included = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.text[:40]}"


class PostMortemDraft(models.Model):
    """One person's autosaved, unsaved edits, and the version they started from."""

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    base_version = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    saved_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["postmortem", "user"], name="pm_draft_per_user")
        ]

    def __str__(self) -> str:
        return f"draft of {self.postmortem_id} by {self.user_id}"


class ActionItem(models.Model):
    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    postmortem = models.ForeignKey(
        PostMortem, on_delete=models.CASCADE, related_name="action_items"
    )
    description = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items"
    )
    due_date = models.DateField()
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    tracker_url = models.URLField(blank=True, max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(
                fields=["due_date"],
                name="actionitem_open_due",
                condition=models.Q(status__in=["open", "in_progress"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(description=""), name="actionitem_text"),
        ]

    def __str__(self) -> str:
        return self.description[:60]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_open and self.due_date < today
