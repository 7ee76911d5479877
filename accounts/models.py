"""Who signed in through which identity provider, and people's own API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    """One person at one identity provider: the provider's ``sub`` is who they are there.

    ``groups`` is what the provider said at the last sign-in (their roles follow from it).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    provider = models.CharField(max_length=64)
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    groups = models.JSONField(default=list, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="sso_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject} ({self.user})"


class PersonalToken(models.Model):
    """An API token of one person: named, expiring, revocable. Only its hash is stored.

    Integration tokens (DRF's ``authtoken``, made by an admin for CI or monitoring) are
    separate and unchanged; a personal token is told apart by its ``nxp_`` prefix.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the key, shown in lists so a person recognises a token.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of the whole key
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("manage_all_tokens", "See and revoke everyone's personal API tokens")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="personal_token_name_unique_while_live",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="personal_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"
