"""What the incident API reads (input serializers) and writes (output serializers).

Input serializers parse types only; every rule about values (title length, known severity and
services, impact range, who may do what) is checked by the services, so the API, the pages and
Slack all refuse the same things with the same words.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nexusops.common import bounds
from nexusops.common.schema import ErrorDetailSerializer, ErrorSerializer  # noqa: F401
from nexusops.engine.models import Timer

from ..models import Channel, ChecklistItem, Incident, Service, Severity, Status, TimelineEvent
from ..selectors import incident_visibility, pending_timers
from ..services import TRANSITIONS, transitions_available

# The one error body (ErrorSerializer) is documented once, in nexusops.common.schema.

# --- input -----------------------------------------------------------------------------------


class IncidentDeclareInputSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True, help_text="Required; at most 200 characters.")
    severity = serializers.CharField(help_text="A severity code, e.g. P1 (see /api/severities/).")
    services = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Affected service slugs (see /api/services/).",
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    impact_users = bounds.api_count(required=False, allow_null=True, default=None)
    impact_percent = bounds.api_percent(
        required=False, allow_null=True, default=None, help_text="Share of users affected, 0-100."
    )
    impact_description = serializers.CharField(required=False, allow_blank=True, default="")
    data_breach = serializers.BooleanField(required=False, default=False)
    major_customer_impact = serializers.BooleanField(required=False, default=False)
    detected_at = bounds.BoundedDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to now; from 2000-01-01 to at most a day ahead.",
    )


class VersionInputMixin(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=bounds.INT_MAX,
        help_text="The version you last read (optimistic concurrency); a stale one gives 409. "
        'The If-Match: "<version>" header does the same and gives 412.',
    )


class IncidentUpdateInputSerializer(VersionInputMixin):
    """PATCH: only the fields sent are changed."""

    title = serializers.CharField(required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    severity = serializers.CharField(required=False)
    services = serializers.ListField(child=serializers.CharField(), required=False)
    impact_users = bounds.api_count(required=False, allow_null=True)
    impact_percent = bounds.api_percent(required=False, allow_null=True)
    impact_description = serializers.CharField(required=False, allow_blank=True)
    data_breach = serializers.BooleanField(required=False)
    major_customer_impact = serializers.BooleanField(required=False)


class TransitionInputSerializer(VersionInputMixin):
    action = serializers.ChoiceField(choices=[(t.name, t.label) for t in TRANSITIONS.values()])
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required to reopen."
    )


class AssignInputSerializer(VersionInputMixin):
    commander = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="A username; null (or empty) unassigns; leave out to keep.",
    )
    responders = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Usernames; replaces the list; leave out to keep.",
    )


class NoteInputSerializer(serializers.Serializer):
    message = serializers.CharField(allow_blank=True, trim_whitespace=False)
    internal = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Internal notes are never shown to stakeholders; a public one is an update.",
    )


class ChecklistItemInputSerializer(serializers.Serializer):
    done = serializers.BooleanField()


class TimelineQuerySerializer(serializers.Serializer):
    kind = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only these kinds (repeat the parameter or separate with commas).",
    )

    def validate_kind(self, value: list[str]) -> list[str]:
        return [k.strip() for v in value for k in v.split(",") if k.strip()]


# --- output ----------------------------------------------------------------------------------


class ChecklistItemSerializer(serializers.ModelSerializer):
    done = serializers.BooleanField(read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["key", "step", "label", "order", "automatic", "done", "done_at", "done_by_name"]
        read_only_fields = fields


class TimerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Timer
        fields = ["kind", "due_at"]
        read_only_fields = fields


class IncidentListItemSerializer(serializers.ModelSerializer):
    severity = serializers.CharField(source="severity.code", read_only=True)
    services = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    commander = serializers.CharField(source="commander.username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "number",
            "title",
            "status",
            "severity",
            "services",
            "commander",
            "detected_at",
            "acknowledged_at",
            "resolved_at",
            "sla_next_due_at",
            "sla_next_kind",
            "sla_breached",
            "data_breach",
            "major_customer_impact",
            "version",
        ]
        read_only_fields = fields


class IncidentSerializer(IncidentListItemSerializer):
    """One incident as the command page sees it. Expects ``selectors.incident_get``'s row."""

    severity_name = serializers.CharField(source="severity.name", read_only=True)
    responders = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    # A plain string here: the same choices as the timeline's ``channel`` enum, and one enum
    # under two names makes the schema ambiguous.
    source = serializers.CharField(
        read_only=True, help_text="Where it was declared from: " + ", ".join(Channel.values) + "."
    )
    pending_timers = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField(
        help_text="The actions allowed from the current status."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One rule with the command page: a user who may not see internal sections does not
        # get their fields. Every view passes its request; only the schema generator has none
        # (it documents every field, each optional for stakeholders).
        request = self.context.get("request")
        if request is None:
            return
        visibility = incident_visibility(getattr(request, "user", None))
        for name in list(self.fields):
            if not visibility.shows(name):
                self.fields.pop(name)

    class Meta(IncidentListItemSerializer.Meta):
        fields = [
            *IncidentListItemSerializer.Meta.fields,
            "severity_name",
            "summary",
            "impact_users",
            "impact_percent",
            "impact_description",
            "source",
            "responders",
            "created_by",
            "investigating_at",
            "mitigated_at",
            "monitoring_started_at",
            "closed_at",
            "first_update_at",
            "checklist",
            "pending_timers",
            "transitions",
            "last_event_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TimerSerializer(many=True))
    def get_pending_timers(self, obj: Incident) -> list[dict]:
        return TimerSerializer(pending_timers(obj), many=True).data

    def get_transitions(self, obj: Incident) -> list[str]:
        return [t.name for t in transitions_available(obj)]


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    internal = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "kind",
            "message",
            "actor",
            "actor_name",
            "channel",
            "internal",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    def get_internal(self, obj: TimelineEvent) -> bool:
        return obj.visibility == TimelineEvent.Visibility.INTERNAL


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["slug", "name", "kind", "owner_team", "description", "runbook_url"]


class SeveritySerializer(serializers.ModelSerializer):
    response_time_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Severity
        fields = ["code", "name", "definition", "example", "response_time_seconds"]

    def get_response_time_seconds(self, obj: Severity) -> int:
        return int(obj.response_time.total_seconds())


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    time_zone = serializers.CharField()
