"""Tokens of the CI/CD pipelines and ArgoCD instances that record deployments.

A token is shown once when made; only its SHA-256 is stored, and a request is matched by the
hash of the token it presents (constant-time by construction: a unique index lookup).
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock

from ..models import DeployIntegration
from .common import invalid, require


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def integration_create(
    *, name: str, source: str, actor: User | None, token: str | None = None
) -> tuple[DeployIntegration, str]:
    """Returns the integration and its token (``token`` given only by the demo seeder)."""
    require(actor, "add_deployintegration")
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise invalid("name", "A name of 1 to 80 characters is required.")
    if source not in DeployIntegration.Source.values:
        raise invalid("source", f"source is one of {', '.join(DeployIntegration.Source.values)}.")
    if DeployIntegration.objects.filter(name=name).exists():
        raise invalid("name", f"An integration named {name!r} exists.")
    token = token or secrets.token_urlsafe(32)
    integration = DeployIntegration.objects.create(
        name=name, source=source, token_hash=token_hash(token), token_hint=token[:6]
    )
    return integration, token


def integration_authenticate(*, token: str, source: str | None = None) -> DeployIntegration | None:
    if not token or len(token) > 200:
        return None
    integration = DeployIntegration.objects.filter(
        token_hash=token_hash(token), active=True
    ).first()
    if integration is None or (source is not None and integration.source != source):
        return None
    DeployIntegration.objects.filter(pk=integration.pk).update(last_used_at=clock.now())
    return integration
