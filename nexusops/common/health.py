"""Liveness and readiness, for load balancers and orchestrators (no login)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
@login_not_required
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        return f"database unreachable: {type(exc).__name__}: {first_line}"
    return None


def _check_broker() -> str | None:
    from nexusops.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by name
        return f"broker unreachable: {type(exc).__name__}: {exc}"
    return None


@require_GET
@never_cache
@login_not_required
def readyz(request):
    checks = {"database": _check_database(), "broker": _check_broker()}
    failing = {name: problem for name, problem in checks.items() if problem}
    body = {
        "status": "unavailable" if failing else "ready",
        "checks": {name: (problem or "ok") for name, problem in checks.items()},
        "mode": settings.MODE,
    }
    return JsonResponse(body, status=503 if failing else 200)
