"""Start-up check: the group -> role mapping names roles that exist."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from nexusops.common import roles


@register()
def group_roles_check(app_configs, **kwargs):  # noqa: ANN001, ANN201 - Django's signature
    from .services.sso import group_roles

    try:
        mapping = group_roles(settings.SSO_GROUP_ROLES)
    except ValueError as exc:
        return [Error(f"SSO_GROUP_ROLES: {exc}", id="accounts.E001")]
    unknown = sorted({role for role in mapping.values() if role not in roles.ROLES})
    if unknown:
        return [
            Error(
                f"SSO_GROUP_ROLES names unknown roles: {', '.join(unknown)}",
                hint=f"roles are {', '.join(roles.ROLES)}",
                id="accounts.E002",
            )
        ]
    return []
