"""Read-only API for alert groups (ingest lives in ``ingest_views``)."""

from __future__ import annotations

from rest_framework import generics, permissions, serializers

from . import selectors
from .models import AlertGroup


class CanViewAlerts(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return bool(request.user and request.user.has_perm("alerts.view_alertgroup"))


class AlertGroupSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = AlertGroup
        fields = [
            "id",
            "key",
            "title",
            "rule_name",
            "level",
            "service_slug",
            "status",
            "firing_count",
            "alert_count",
            "event_count",
            "first_seen",
            "last_seen",
            "flapping",
            "suppressed_reason",
            "silenced_until",
            "incident",
        ]


class AlertGroupList(generics.ListAPIView):
    serializer_class = AlertGroupSerializer
    permission_classes = [permissions.IsAuthenticated, CanViewAlerts]

    def get_queryset(self):
        return selectors.alert_group_list(status=self.request.query_params.get("status", ""))
