"""Parsing of the status page forms: text to values. What is acceptable is the services' call."""

from __future__ import annotations

from django import forms


class PublishForm(forms.Form):
    stage = forms.CharField(required=False, max_length=20)
    # Length is the service's call (one message for every channel), so no max_length here.
    title = forms.CharField(required=False)
    message = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    next = forms.CharField(required=False, max_length=300)


class SubscribeForm(forms.Form):
    email = forms.CharField(required=False, max_length=254)
