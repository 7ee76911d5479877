"""Settings the actions read: Django settings first, then the environment (so a worker
started with only environment variables, before the settings module names them, still works)."""

from __future__ import annotations

import os

from django.conf import settings


def setting(name: str, default: str = "") -> str:
    value = getattr(settings, name, "") or os.environ.get(name, "")
    return str(value) if value not in (None, "") else default


def missing(*names: str, any_of: tuple[str, ...] = ()) -> str:
    """ "" when every name (and one of ``any_of``) is set, else a sentence saying what to set."""
    unset = [n for n in names if not setting(n)]
    if any_of and not any(setting(n) for n in any_of):
        unset.append(" or ".join(any_of))
    return f"not configured: set {', '.join(unset)}" if unset else ""


def backup_bucket() -> str:
    return setting("BACKUP_BUCKET", "nexus-backups")


def approval_ttl_minutes() -> int:
    try:
        return max(1, int(setting("APPROVAL_TTL_MINUTES", "30")))
    except ValueError:
        return 30
