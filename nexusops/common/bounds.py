"""Sane bounds for user-supplied dates and numbers, shared by the API and the forms.

A date in year 1 or 9999 is accepted by Python and PostgreSQL, but shifting it into a user's
zone overflows (``OverflowError``) and every page that shows it answers 500. A number past the
column's range fails in the database. So every input is bounded here, with a message that names
the window, before any service sees it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from . import clock

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Clocks drift and CI runners sit in other zones; a day ahead is a typo, not a skew.
FUTURE_SLACK = dt.timedelta(days=1)
# PostgreSQL's integer (Django's PositiveIntegerField and IntegerField columns).
INT_MAX = 2_147_483_647


def latest() -> dt.datetime:
    return clock.now() + FUTURE_SLACK


def check_moment(value: dt.datetime | dt.date | None) -> None:
    """Raise Django's ValidationError when ``value`` lies outside [2000-01-01, now + 1 day]."""
    if value is None:
        return
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        low, high = EARLIEST, latest()
    else:
        moment, low, high = value, EARLIEST.date(), latest().date()
    if not low <= moment <= high:
        raise ValidationError(
            f"Must be between {low:%Y-%m-%d} and {high:%Y-%m-%d} (at most a day ahead).",
            code="out_of_range",
        )


def _drf(check):  # noqa: ANN001, ANN202 - adapts a Django validator to DRF's error type
    def validator(value):  # noqa: ANN001, ANN202
        try:
            check(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    return validator


class BoundedDateTimeField(serializers.DateTimeField):
    """A DRF date-time between 2000-01-01 and a day from now."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.validators.append(_drf(check_moment))


class BoundedFormDateTimeField(forms.DateTimeField):
    default_validators = [check_moment]


class BoundedFormDateField(forms.DateField):
    default_validators = [check_moment]


def api_count(**kwargs) -> serializers.IntegerField:  # noqa: ANN003
    """A whole number that fits the database's integer column (0 to 2,147,483,647)."""
    return serializers.IntegerField(min_value=0, max_value=INT_MAX, **kwargs)


def api_percent(**kwargs) -> serializers.DecimalField:  # noqa: ANN003
    """A share 0-100 with two decimals; ``1e400`` or ``NaN`` is a 400, not a crash."""
    return serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, **kwargs
    )


def form_count(**kwargs) -> forms.IntegerField:  # noqa: ANN003
    return forms.IntegerField(min_value=0, max_value=INT_MAX, **kwargs)


def form_percent(**kwargs) -> forms.DecimalField:  # noqa: ANN003
    return forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, **kwargs)
