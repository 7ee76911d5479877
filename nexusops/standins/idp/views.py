"""The control API (``/_standin/``) tests drive NEXUS SSO with; see the package docstring."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import PEOPLE, faults, seed


def _body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


@csrf_exempt
@require_POST
def people(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    if not data.get("username") or not isinstance(data.get("groups"), list):
        return JsonResponse({"error": "username and groups (a list) are required"}, status=400)
    user = seed.person_set(
        data["username"],
        groups=data["groups"],
        name=data.get("name", ""),
        email=data.get("email", ""),
    )
    return JsonResponse({"username": user.username, "groups": data["groups"]})


@csrf_exempt
@require_POST
def client(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    uris = data.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        return JsonResponse({"error": "redirect_uris (a list) is required"}, status=400)
    seed.client_register(
        redirect_uris=uris, client_secret=data.get("client_secret") or seed.CLIENT_SECRET
    )
    return JsonResponse({"redirect_uris": uris})


@csrf_exempt
@require_POST
def fault(request: HttpRequest) -> JsonResponse:
    try:
        faults.set_fault(_body(request).get("fault", ""))
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"fault": faults.current()})


@csrf_exempt
@require_POST
def reset(request: HttpRequest) -> JsonResponse:
    faults.reset()
    for username, name, email, groups in PEOPLE:
        seed.person_set(username, groups=groups, name=name, email=email)
    return JsonResponse({"fault": ""})
