"""The demo's "what did each vendor receive?" page (embedded mode with stand-ins only)."""

from __future__ import annotations

import json
import ssl
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import demo, teams
from .control import StandinControl

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


def _teams_cards() -> list[dict]:
    """The bot's cards in the Teams stand-in that have buttons, newest first."""
    try:
        state = _fetch(f"{_base_url('teams', 'http')}/_standin/state", None)
    except (OSError, ValueError):
        return []
    if not isinstance(state, dict):
        return []
    channels = state.get("channels") or {}
    cards = []
    for post in sorted((state.get("posts") or {}).values(), key=lambda p: -int(p["id"])):
        for card in post.get("cards") or []:
            buttons = [a for a in card.get("actions") or [] if a.get("type") == "Action.Submit"]
            if not buttons:
                continue
            title = next((b.get("text", "") for b in card.get("body") or []), "")
            channel = channels.get(post["channel"], {}).get("displayName", "")
            cards.append({"id": post["id"], "channel": channel, "title": title, "buttons": buttons})
    return cards[:10]


def standins_page(request: HttpRequest) -> HttpResponse:
    vendors = []
    for label, name, scheme in VENDORS:
        rows, error = _received(name, scheme)
        vendors.append(
            {"label": label, "url": _base_url(name, scheme), "rows": rows, "error": error}
        )
    teams_people = [(teams.aad_id(u), name or u) for _, u, name, _ in demo.SLACK_USERS]
    context = {"vendors": vendors, "teams_cards": _teams_cards(), "teams_people": teams_people}
    return render(request, "standins.html", context)


@require_POST
def teams_press(request: HttpRequest) -> HttpResponse:
    """Press a card's button as a demo person: the Teams stand-in signs and delivers it."""
    data = {"action": request.POST.get("action", ""), "incident": request.POST.get("incident", "")}
    body = {"activity_id": request.POST.get("activity", ""), "user": request.POST.get("user", "")}
    control = StandinControl(_base_url("teams", "http"), timeout=15)
    try:
        answer = control.command("press", {**body, "data": data})
    except (OSError, ValueError) as exc:
        messages.error(request, f"The Teams stand-in did not deliver the press: {exc}")
    else:
        messages.success(
            request, f"Teams delivered the press; the bot answered {answer['status']}."
        )
    return redirect("standins")
