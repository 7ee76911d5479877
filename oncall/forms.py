from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model


class EscalateForm(forms.Form):
    reason = forms.CharField(max_length=500, strip=True)


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True))
    starts_at = forms.DateTimeField(help_text="In UTC, e.g. 2026-03-13 17:00")
    ends_at = forms.DateTimeField()
    reason = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        for name in ("starts_at", "ends_at"):
            value = data.get(name)
            if value is not None:
                data[name] = value.astimezone(dt.UTC)
        return data


def parse_month(value: str | None, today: dt.date) -> dt.date:
    """``YYYY-MM`` → the first of that month; default last month (what payroll asks for)."""
    if value:
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            pass
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def parse_day(value: str | None, today: dt.date) -> dt.date:
    if value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return today
