import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).") from exc


class Profile(models.Model):
    """A person's contact ids, time zone, pay rate and organisational role."""

    class OrgRole(models.TextChoices):
        ENGINEER = "engineer", "On-call engineer"
        ENGINEERING_MANAGER = "engineering_manager", "Engineering manager"
        CTO = "cto", "CTO"
        VP_ENGINEERING = "vp_engineering", "VP Engineering"
        CEO = "ceo", "CEO"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # Blank means "not chosen yet": pages show UTC until the browser's zone arrives (stored
    # only while blank) or the person picks one on their profile page.
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    phone = models.CharField(max_length=32, blank=True)
    slack_user_id = models.CharField(
        max_length=32,
        blank=True,
        help_text="Leave empty to have NexusOps find it by e-mail (users.lookupByEmail).",
    )
    # The id Slack said does not exist; the flag lifts by itself once slack_user_id changes.
    slack_invalid_id = models.CharField(max_length=32, blank=True, editable=False)
    # When Slack last found no user with this person's e-mail (so we do not ask at every invite).
    slack_email_unmatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    pagerduty_user_id = models.CharField(max_length=32, blank=True)
    hourly_rate = models.DecimalField(
        max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    org_role = models.CharField(max_length=32, choices=OrgRole.choices, default=OrgRole.ENGINEER)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hourly_rate__gte=0), name="profile_hourly_rate_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"profile of {self.user}"

    @property
    def slack_problem(self) -> str:
        """Why this person cannot be reached in Slack, in words for the admin; "" if fine."""
        if self.slack_user_id and self.slack_user_id == self.slack_invalid_id:
            return f"Slack has no user {self.slack_user_id} (user_not_found)"
        if not self.slack_user_id and self.slack_email_unmatched_at:
            return f"no Slack user has the e-mail {self.user.email or '(none)'}"
        return ""
