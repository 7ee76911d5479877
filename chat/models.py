"""Each incident's channel at each chat provider (``NEXUSOPS_CHAT`` may name several)."""

from __future__ import annotations

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
