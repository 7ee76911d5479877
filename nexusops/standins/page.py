"""The demo's "what did each vendor receive?" page (embedded mode with stand-ins only)."""

from __future__ import annotations

import json
import ssl
import urllib.request
from pathlib import Path

from django.conf import settings
from django.shortcuts import render

from . import demo

VENDORS = [
    ("Slack", "slack", "http"),
    ("PagerDuty", "pagerduty", "https"),
    ("Statuspage", "statuspage", "http"),
    ("Kubernetes", "kubernetes", "http"),
    ("ArgoCD", "argocd", "http"),
]


def _fetch(url: str, context: ssl.SSLContext | None) -> object:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
        return json.loads(response.read())


def _received(name: str, scheme: str) -> tuple[list[dict], str]:
    context = None
    if scheme == "https":
        ca = demo.ca_path(Path(settings.VAR_DIR))
        context = ssl.create_default_context(cafile=str(ca)) if ca.exists() else None
    base = demo.url(name, scheme)
    try:
        try:
            entries = _fetch(f"{base}/_standin/received", context)
        except urllib.error.HTTPError:
            entries = _fetch(f"{base}/_standin/state", context).get("requests", [])
    except (OSError, ValueError) as exc:
        return [], f"not reachable ({exc}); is `make run` running the stand-ins?"
    rows = []
    for entry in list(entries)[-40:][::-1]:
        body = entry.get("body")
        rows.append(
            {
                "method": entry.get("method", ""),
                "path": entry.get("path", ""),
                "body": json.dumps(body, indent=1, sort_keys=True)[:1500] if body else "",
            }
        )
    return rows, ""


def standins_page(request):
    vendors = []
    for label, name, scheme in VENDORS:
        rows, error = _received(name, scheme)
        vendors.append(
            {"label": label, "url": demo.url(name, scheme), "rows": rows, "error": error}
        )
    return render(request, "standins.html", {"vendors": vendors})
