"""The demo's "what did each vendor receive?" page (embedded mode with stand-ins only)."""

from __future__ import annotations

import json
import ssl
import urllib.request
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import demo

VENDORS = [
    ("Slack", "slack", "http"),
    ("Mattermost", "mattermost", "http"),
    ("PagerDuty", "pagerduty", "https"),
    ("Statuspage", "statuspage", "http"),
    ("Kubernetes", "kubernetes", "http"),
    ("ArgoCD", "argocd", "http"),
    ("SendGrid", "sendgrid", "http"),
    ("Stripe", "stripe", "http"),
    ("Microsoft Teams", "teams", "http"),
]


def _fetch(url: str, context: ssl.SSLContext | None) -> object:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
        return json.loads(response.read())


def _base_url(name: str, scheme: str) -> str:
    # Tests run the stand-ins on another port base than the demo's.
    return demo.url(name, scheme, base=getattr(settings, "STANDIN_PORT_BASE", None))


def _received(name: str, scheme: str) -> tuple[list[dict], str]:
    """The newest requests a stand-in received, or why they cannot be shown."""
    context = None
    if scheme == "https":
        ca = demo.ca_path(Path(settings.VAR_DIR))
        context = ssl.create_default_context(cafile=str(ca)) if ca.exists() else None
    base = _base_url(name, scheme)
    try:
        entries = _fetch(f"{base}/_standin/received", context)
    except (OSError, ValueError) as exc:
        return [], f"not reachable ({exc}); is `make run` running the stand-ins?"
    if not isinstance(entries, list):
        # A stand-in that answers something else must not take the whole page down.
        return [], f"{base}/_standin/received did not answer a list of requests"
    rows = []
    for entry in entries[-40:][::-1]:
        if not isinstance(entry, dict):
            continue
        body = entry.get("body")
        rows.append(
            {
                "method": entry.get("method", ""),
                "path": entry.get("path", ""),
                "body": json.dumps(body, indent=1, sort_keys=True)[:1500] if body else "",
            }
        )
    return rows, ""


def standins_page(request: HttpRequest) -> HttpResponse:
    vendors = []
    for label, name, scheme in VENDORS:
        rows, error = _received(name, scheme)
        vendors.append(
            {"label": label, "url": _base_url(name, scheme), "rows": rows, "error": error}
        )
    return render(request, "standins.html", {"vendors": vendors})
