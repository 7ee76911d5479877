"""Parsing of the incident pages' forms and querystrings.

These forms only turn text into Python values (an int, a date, a list of slugs). Whether a
title, a severity or a service is acceptable is the services' business: their
``ApplicationError.fields`` are merged with these parse errors and shown next to the fields.
"""

from __future__ import annotations

from django import forms

from nexusops.common import bounds

from .models import Status


class ListField(forms.Field):
    """Several values under one name (``?services=a&services=b``), not checked against choices."""

    widget = forms.SelectMultiple

    def to_python(self, value) -> list[str]:  # noqa: ANN001 - raw form value
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(v).strip() for v in value if str(v).strip()]


class IncidentFilterForm(forms.Form):
    STATUS_CHOICES = [("", "Any status"), ("open", "Open"), *Status.choices]
    SORT_CHOICES = [
        ("detected", "Newest (open first)"),
        ("oldest", "Oldest"),
        ("severity", "Severity"),
        ("sla", "Next SLA deadline"),
    ]

    q = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    severity = forms.CharField(required=False, max_length=2)
    service = forms.CharField(required=False, max_length=63)
    commander = forms.CharField(required=False, max_length=150)
    detected_from = bounds.BoundedFormDateField(required=False)
    detected_to = bounds.BoundedFormDateField(required=False)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def selector_kwargs(self) -> dict:
        """What ``selectors.incident_list`` takes; fields that did not parse are left out."""
        self.is_valid()  # an invalid field is dropped from cleaned_data, the rest still apply
        data = self.cleaned_data
        return {
            "q": data.get("q") or None,
            "status": data.get("status") or None,
            "severity": data.get("severity") or None,
            "service": data.get("service") or None,
            "commander": data.get("commander") or None,
            "detected_from": data.get("detected_from"),
            "detected_to": data.get("detected_to"),
            "sort": data.get("sort") or "",
        }


class IncidentFieldsForm(forms.Form):
    """The fields declare and edit share."""

    title = forms.CharField(required=False)
    severity = forms.CharField(required=False)
    services = ListField(required=False)
    summary = forms.CharField(required=False, widget=forms.Textarea)
    impact_users = bounds.form_count(required=False)
    impact_percent = bounds.form_percent(required=False)
    impact_description = forms.CharField(required=False, widget=forms.Textarea)
    data_breach = forms.BooleanField(required=False)
    major_customer_impact = forms.BooleanField(required=False)


class DeclareForm(IncidentFieldsForm):
    pass


class EditForm(IncidentFieldsForm):
    version = forms.IntegerField(required=False, min_value=1, max_value=bounds.INT_MAX)

    FLAGS = ("data_breach", "major_customer_impact")

    def service_kwargs(self) -> dict:
        """Only what the form sent (an absent field is left alone); the flags are checkboxes,
        where absent means off."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and (name in self.data or name in self.FLAGS)
        }


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=40)
    reason = forms.CharField(required=False, max_length=2000)
    version = forms.IntegerField(required=False, min_value=1, max_value=bounds.INT_MAX)


class NoteForm(forms.Form):
    message = forms.CharField(required=False, widget=forms.Textarea, strip=False)
    internal = forms.BooleanField(required=False)


class AssignForm(forms.Form):
    commander = forms.CharField(required=False, max_length=150)
    responders = ListField(required=False)
    version = forms.IntegerField(required=False, min_value=1, max_value=bounds.INT_MAX)


class ChecklistForm(forms.Form):
    done = forms.BooleanField(required=False)


def errors_of(form: forms.Form) -> dict[str, list[str]]:
    return {field: list(messages) for field, messages in form.errors.items()}
