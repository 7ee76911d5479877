"""``GET /metrics``: Prometheus text, for a bearer token or a client on an allowed network.

The client's address is the connection's (``REMOTE_ADDR``), never ``X-Forwarded-For``: a
scraper talks to the pod, and a forwarded header can say anything.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import generate_latest

from nexusops.common import clock
from nexusops.common import metrics as process_metrics

from .gauges import console_state


def _from_allowed_network(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def _bearer_ok(request: HttpRequest) -> bool:
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not offered.strip():
        return False
    return any(
        hmac.compare_digest(offered.strip().encode(), token.encode())
        for token in settings.METRICS_TOKENS
    )


def _refused(status: int, message: str) -> JsonResponse:
    response = JsonResponse(
        {
            "error": {
                "code": "not_authenticated" if status == 401 else "permission_denied",
                "message": message,
                "fields": {},
            }
        },
        status=status,
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="nexusops-metrics"'
    return response


class _Families:
    """What ``generate_latest`` needs: something with ``collect()``."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


@require_GET
@never_cache
@login_not_required
def metrics(request: HttpRequest) -> HttpResponse:
    if not (_from_allowed_network(request) or _bearer_ok(request)):
        if settings.METRICS_TOKENS:
            return _refused(401, "Send Authorization: Bearer <METRICS_TOKEN>.")
        return _refused(
            403,
            "Metrics are served to METRICS_ALLOWED_NETWORKS only, and no METRICS_TOKEN is set.",
        )
    counted, content_type = process_metrics.exposition()
    state = generate_latest(_Families(console_state(clock.now())))
    return HttpResponse(counted + state, content_type=content_type)
