"""The API views: one per resource, thin (DESIGN.md rule 1).

Each handler parses with an input serializer, calls one service (writes) or selector (reads)
and renders with an output serializer. Writes look the incident up first, so an unknown number
is a 404, and read it again after the service, so the answer shows what was committed.
Concurrency (If-Match, ETag, 412/409/428) is explained in ``preconditions``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nexusops.common import roles
from nexusops.common.api import CursorPagination
from nexusops.common.errors import PermissionDeniedError

from ..models import Channel, Incident, Service, Severity
from ..selectors import incident_get, incident_visibility, timeline
from ..services import (
    checklist_item_set,
    incident_assign,
    incident_declare,
    incident_note_add,
    incident_transition,
    incident_update,
)
from .filters import IncidentFilter
from .preconditions import IncidentPermission, etag, expected_version, stale_is_412
from .serializers import (
    AssignInputSerializer,
    ChecklistItemInputSerializer,
    ChecklistItemSerializer,
    ErrorSerializer,
    IncidentDeclareInputSerializer,
    IncidentListItemSerializer,
    IncidentSerializer,
    IncidentUpdateInputSerializer,
    MeSerializer,
    NoteInputSerializer,
    ServiceSerializer,
    SeveritySerializer,
    TimelineEventSerializer,
    TimelineQuerySerializer,
    TransitionInputSerializer,
)


class ServiceListView(generics.ListAPIView):
    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    filterset_fields = ["kind"]


class SeverityListView(generics.ListAPIView):
    queryset = Severity.objects.all()
    serializer_class = SeveritySerializer
    pagination_class = None


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        profile = getattr(request.user, "profile", None)
        return Response(
            {
                "username": request.user.get_username(),
                "role": roles.user_role(request.user),
                # Blank means "not chosen yet", and pages then show UTC.
                "time_zone": getattr(profile, "time_zone", "") or "UTC",
            }
        )


# --- incidents ----------------------------------------------------------------------

TAG = ["incidents"]
NUMBER = OpenApiParameter(
    "number",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The incident number, e.g. INC-20260501-001.",
)
CHECKLIST_KEY = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A checklist item key."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag you last read, e.g. "3". A stale one answers 412 stale_version.',
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The incident\'s version, e.g. "3"; send it back as If-Match.',
)
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
}
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    description="The new incident's URL.",
)
NOTE_ERRORS = {**ERRORS, 409: ErrorSerializer}
WRITE_ERRORS = {**NOTE_ERRORS, 412: ErrorSerializer}


class IncidentAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, IncidentPermission]
    write_perms: tuple[str, ...] = ()


def _versioned_write(
    request: Request,
    number: str,
    input_serializer: type[serializers.Serializer],
    service: Callable[..., Incident],
    *,
    version_required: bool = False,
) -> Response:
    """The write sequence of every versioned incident endpoint, written once.

    Look the incident up (an unknown number is 404 before any parsing), parse the body, take
    the version the client last read from If-Match or the body (``version_required``: none
    given is 428), call ``service`` with the parsed fields (a stale If-Match is 412, a stale
    body version the service's 409) and answer with the incident as committed.
    """
    incident = incident_get(number=number)
    data = _parse(input_serializer, request.data)
    version, from_header = expected_version(
        request, data.pop("version", None), required=version_required
    )
    with stale_is_412(from_header):
        incident = service(
            incident=incident,
            actor=request.user,
            expected_version=version,
            channel=Channel.API,
            **data,
        )
    return _render(request, incident)


def _render(
    request: Request, incident: Incident, *, status_code: int = 200, headers=None
) -> Response:
    """Read the incident again (with everything prefetched) and answer with it."""
    fresh = incident_get(number=incident.number)
    return Response(
        IncidentSerializer(fresh, context={"request": request}).data,
        status=status_code,
        headers={**etag(fresh), **(headers or {})},
    )


DECLARE_EXAMPLE = OpenApiExample(
    "Declare a P1",
    request_only=True,
    value={
        "title": "Checkout API returns 502",
        "severity": "P1",
        "services": ["api-gateway", "billing-service"],
        "summary": "5xx rate at 12% on /checkout since 09:12 UTC.",
        "impact_percent": "12.00",
        "impact_description": "Customers cannot pay.",
        "major_customer_impact": True,
    },
)
TRANSITION_EXAMPLES = [
    OpenApiExample("Acknowledge", request_only=True, value={"action": "acknowledge"}),
    OpenApiExample(
        "Reopen (needs a reason)",
        request_only=True,
        value={"action": "reopen", "reason": "5xx came back after the cache warmed up."},
    ),
]


class IncidentListView(generics.GenericAPIView, IncidentAPIView):
    queryset = Incident.objects.none()  # the filterset calls selectors.incident_list
    filterset_class = IncidentFilter
    pagination_class = CursorPagination
    serializer_class = IncidentListItemSerializer
    write_perms = ("incidents.declare_incident",)

    @extend_schema(
        operation_id="incidents_list",
        tags=TAG,
        summary="List incidents",
        description="Pages by cursor: follow next and previous (each page costs the same at "
        "any depth). count stops at 1,000; count_exact is false when there are more.",
        responses={200: IncidentListItemSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(IncidentListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="incidents_declare",
        tags=TAG,
        summary="Declare an incident",
        parameters=[ETAG, LOCATION],
        request=IncidentDeclareInputSerializer,
        responses={201: IncidentSerializer, **ERRORS},
        examples=[DECLARE_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        data = _parse(IncidentDeclareInputSerializer, request.data)
        incident = incident_declare(actor=request.user, channel=Channel.API, **data)
        location = reverse("api-incident-detail", kwargs={"number": incident.number})
        return _render(request, incident, status_code=201, headers={"Location": location})


class IncidentDetailView(IncidentAPIView):
    write_perms = ("incidents.drive_incident",)

    @extend_schema(
        operation_id="incidents_retrieve",
        tags=TAG,
        summary="One incident",
        parameters=[NUMBER, ETAG],
        responses={200: IncidentSerializer, **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        incident = incident_get(number=number)
        serializer = IncidentSerializer(incident, context={"request": request})
        return Response(serializer.data, headers=etag(incident))

    @extend_schema(
        operation_id="incidents_update",
        tags=TAG,
        summary="Change title, summary, severity, services, impact or flags",
        description="Needs the version you last read: If-Match (stale: 412) or a version "
        "field (stale: 409); without either, 428.",
        parameters=[NUMBER, IF_MATCH, ETAG],
        request=IncidentUpdateInputSerializer,
        responses={200: IncidentSerializer, **WRITE_ERRORS, 428: ErrorSerializer},
    )
    def patch(self, request: Request, number: str) -> Response:
        return _versioned_write(
            request, number, IncidentUpdateInputSerializer, incident_update, version_required=True
        )


class IncidentTransitionView(IncidentAPIView):
    write_perms = ("incidents.acknowledge_incident", "incidents.drive_incident")

    @extend_schema(
        operation_id="incidents_transition",
        tags=TAG,
        summary="Move the incident along its lifecycle",
        description="triggered → acknowledged → investigating → mitigated → resolved → "
        "monitoring → closed; reopen takes a resolved or monitoring incident back to "
        "investigating. A move not allowed from the current status answers 409 "
        "invalid_transition.",
        parameters=[NUMBER, IF_MATCH, ETAG],
        request=TransitionInputSerializer,
        responses={200: IncidentSerializer, **WRITE_ERRORS},
        examples=TRANSITION_EXAMPLES,
    )
    def post(self, request: Request, number: str) -> Response:
        return _versioned_write(request, number, TransitionInputSerializer, incident_transition)


class IncidentAssignView(IncidentAPIView):
    write_perms = ("incidents.drive_incident",)

    @extend_schema(
        operation_id="incidents_assign",
        tags=TAG,
        summary="Set the commander and the responders",
        parameters=[NUMBER, IF_MATCH, ETAG],
        request=AssignInputSerializer,
        responses={200: IncidentSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return _versioned_write(request, number, AssignInputSerializer, incident_assign)


class IncidentNoteView(IncidentAPIView):
    write_perms = ("incidents.add_note",)

    @extend_schema(
        operation_id="incidents_note_add",
        tags=TAG,
        summary="Add a note (internal) or a stakeholder update (public)",
        parameters=[NUMBER],
        request=NoteInputSerializer,
        responses={201: TimelineEventSerializer, **NOTE_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        incident = incident_get(number=number)
        data = _parse(NoteInputSerializer, request.data)
        incident = incident_note_add(
            incident=incident, actor=request.user, channel=Channel.API, **data
        )
        # timeline_append left the new event's id on the incident it returned.
        event = timeline(incident=incident, user=request.user).get(pk=incident.last_event_id)
        return Response(TimelineEventSerializer(event).data, status=201)


class IncidentTimelineView(generics.GenericAPIView, IncidentAPIView):
    filter_backends: list = []
    pagination_class = CursorPagination
    serializer_class = TimelineEventSerializer

    @extend_schema(
        operation_id="incidents_timeline",
        tags=TAG,
        summary="The incident's timeline, newest first",
        description="Stakeholders see only public events. Pages by cursor, as the incident "
        "list: follow next (older) and previous (newer); count stops at 1,000, count_exact "
        "is false when there are more.",
        parameters=[
            NUMBER,
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                description="Only these kinds, e.g. note, update, status_changed "
                "(repeat or separate with commas).",
            ),
        ],
        responses={200: TimelineEventSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        query = _parse(TimelineQuerySerializer, request.query_params)
        incident = incident_get(number=number)
        events = timeline(incident=incident, user=request.user, kinds=query.get("kind") or None)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(TimelineEventSerializer(page, many=True).data)


class IncidentChecklistView(IncidentAPIView):
    @extend_schema(
        operation_id="incidents_checklist",
        tags=TAG,
        summary="The runbook checklist of the incident, in step order",
        parameters=[NUMBER],
        responses={200: ChecklistItemSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        incident = incident_get(number=number)
        if not incident_visibility(request.user).shows("checklist"):
            raise PermissionDeniedError("Your role cannot see the runbook checklist.")
        return Response(ChecklistItemSerializer(incident.checklist.all(), many=True).data)


class IncidentChecklistItemView(IncidentAPIView):
    write_perms = ("incidents.add_note",)

    @extend_schema(
        operation_id="incidents_checklist_item_set",
        tags=TAG,
        summary="Tick or untick one checklist item",
        parameters=[NUMBER, CHECKLIST_KEY],
        request=ChecklistItemInputSerializer,
        responses={200: ChecklistItemSerializer, **NOTE_ERRORS},
    )
    def post(self, request: Request, number: str, key: str) -> Response:
        incident = incident_get(number=number)
        data = _parse(ChecklistItemInputSerializer, request.data)
        item = checklist_item_set(
            incident=incident, key=key, done=data["done"], actor=request.user, channel=Channel.API
        )
        return Response(ChecklistItemSerializer(item).data)


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
