"""Roles are Django groups; each app grants its permissions to them.

To give a role a new permission, call :func:`grant` from the owning app's
``AppConfig.ready()``::

    roles.grant(roles.MANAGER, "incidents.change_severity")

``roles_sync()`` (run after every ``migrate`` and by ``seed_demo``) creates the groups and sets
each group's permissions to exactly what was granted, so removing a grant revokes it.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import Group, Permission

INCIDENT_COMMANDER = "Incident Commander"
RESPONDER = "Responder"
MANAGER = "Manager"
STAKEHOLDER = "Stakeholder"
ADMIN = "Admin"  # shown for superusers; not a group

# Most to least powerful: a user in several groups is shown as the first.
ROLES: tuple[str, ...] = (MANAGER, INCIDENT_COMMANDER, RESPONDER, STAKEHOLDER)

_grants: dict[str, set[str]] = defaultdict(set)


def grant(role: str, *permissions: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    for perm in permissions:
        if perm.count(".") != 1:
            raise ValueError(f"permission must be 'app_label.codename', not {perm!r}")
        _grants[role].add(perm)


def granted(role: str) -> frozenset[str]:
    return frozenset(_grants[role])


def roles_sync() -> None:
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = _grants[role]
        perms = []
        for dotted in sorted(wanted):
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                raise LookupError(f"role {role!r} is granted {dotted!r}, which does not exist")
            perms.append(perm)
        group.permissions.set(perms)


def sync_after_migrate(sender, **kwargs) -> None:  # noqa: ANN001 - signal signature
    # post_migrate fires once per app, and each app's permissions are created by its own
    # signal: sync once, after the last app, when every granted permission exists.
    from django.apps import apps

    with_models = [cfg for cfg in apps.get_app_configs() if cfg.models_module is not None]
    if with_models and sender is with_models[-1]:
        roles_sync()


def user_role(user) -> str:  # noqa: ANN001
    if not getattr(user, "is_authenticated", False):
        return ""
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in ROLES:
        if role in names:
            return role
    return ""
