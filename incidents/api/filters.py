"""The incident list's query parameters, parsed and validated by django-filter.

The filtering itself is ``selectors.incident_list``'s, so the list page and the API filter the
same way: :meth:`IncidentFilter.filter_queryset` hands the cleaned values to the selector.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from nexusops.common import bounds

from ..models import OPEN_STATUSES, Incident, Status
from ..selectors import SORTS, incident_list

STATUS_CHOICES = [("open", "Open (triggered to mitigated)"), *Status.choices]
# Severity codes are rows, but always P0-P9 (the model's validator): no query to validate.
SEVERITY_CHOICES = [(f"P{i}", f"P{i}") for i in range(10)]
ORDERING_CHOICES = [
    ("detected", "Open first, then newest detected (default)"),
    ("oldest", "Oldest detected first"),
    ("severity", "Most severe first"),
    ("sla", "Next SLA deadline first"),
    ("number", "Highest number first"),
]
assert {key for key, _ in ORDERING_CHOICES} == set(SORTS)


class DateOrDateTimeField(forms.Field):
    """``2026-05-01`` (a whole UTC day, inclusive) or an ISO 8601 date-time."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        value = str(value).strip()
        try:
            parsed = parse_datetime(value) if len(value) > 10 else parse_date(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(
                "Use a date (2026-05-01) or an ISO 8601 date-time (2026-05-01T09:30:00Z)."
            )
        if isinstance(parsed, dt.datetime) and is_naive(parsed):
            parsed = make_aware(parsed, dt.UTC)
        bounds.check_moment(parsed)
        return parsed


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=STATUS_CHOICES,
        help_text="Repeat for several; 'open' means triggered, acknowledged, investigating "
        "or mitigated.",
    )
    severity = django_filters.MultipleChoiceFilter(
        field_name="severity__code", choices=SEVERITY_CHOICES, help_text="Repeat for several."
    )
    service = django_filters.CharFilter(help_text="A service slug, e.g. api-gateway.")
    commander = django_filters.CharFilter(help_text="The commander's username.")
    detected_from = DateOrDateTimeFilter(help_text="Detected on or after (date or date-time).")
    detected_to = DateOrDateTimeFilter(help_text="Detected on or before (date or date-time).")
    q = django_filters.CharFilter(help_text="Search in number, title and summary.")
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES, help_text="Sort order; the default puts open incidents first."
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_queryset(self, queryset):
        # The selector is the one place filters are applied; ``queryset`` is the view's
        # placeholder and is not used.
        data = self.form.cleaned_data
        statuses = list(data.get("status") or [])
        if "open" in statuses and len(statuses) > 1:
            statuses = sorted({*(s for s in statuses if s != "open"), *OPEN_STATUSES})
        return incident_list(
            status=statuses or None,
            severity=list(data.get("severity") or []) or None,
            service=data.get("service") or None,
            commander=data.get("commander") or None,
            detected_from=data.get("detected_from"),
            detected_to=data.get("detected_to"),
            q=data.get("q") or None,
            sort=data.get("ordering") or "",
        )
