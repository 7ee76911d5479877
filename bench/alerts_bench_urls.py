"""The site's URLs plus one bare Django JSON endpoint to compare the alert ingest against in
the same server: ``POST /api/bench/bare/`` decodes the JSON body and answers 202. It lives
under /api/ so it takes the same middleware path as the webhooks (no login, no CSRF)."""

import json

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request):
    body = json.loads(request.body or b"{}")
    return JsonResponse({"status": "accepted", "alerts": 1 if body else 0}, status=202)


urlpatterns = [
    path("api/bench/bare/", bare),
    path("", include("nexusops.urls")),
]
