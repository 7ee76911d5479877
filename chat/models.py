"""Each incident's channel at each chat provider (``NEXUSOPS_CHAT`` may name several)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IncidentChatChannel(models.Model):
    """One incident's channel at one provider, written when its set-up was delivered."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="chat_channels"
    )
    provider = models.CharField(max_length=32)  # a NEXUSOPS_CHAT word: slack, mattermost, teams
    channel_id = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    summary_id = models.CharField(max_length=200, blank=True)  # the pinned summary's message
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "provider"], name="chat_one_channel_per_provider"
            )
        ]
        ordering = ["incident", "provider"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.provider}:{self.name}"


class ChatIdentity(models.Model):
    """A person's user id at one chat that keeps none on the Profile (Mattermost, Teams).

    Found by e-mail the first time it is needed, then used first; when the chat says the id
    is unknown, it is looked up by e-mail again and this row refreshed (``chat/identities.py``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_identities"
    )
    provider = models.CharField(max_length=32)  # a NEXUSOPS_CHAT word: mattermost, teams
    external_id = models.CharField(max_length=200)  # the chat's user id
    found_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "provider"], name="chat_identity_one_per_chat"),
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="chat_identity_one_person_per_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.provider}:{self.external_id}"
