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
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    phone = models.CharField(max_length=32, blank=True)
    slack_user_id = models.CharField(max_length=32, blank=True)
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
