"""The demo people, groups and the console's client registration at NEXUS SSO."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from oauth2_provider.models import Application

from . import (
    ADMIN,
    CLIENT_ID,
    CLIENT_SECRET,
    HEALTH_CLIENT_ID,
    HEALTH_CLIENT_SECRET,
    PASSWORD,
    PEOPLE,
)


def person_set(username: str, *, groups: list[str], name: str = "", email: str = "") -> User:
    """Create ``username`` (password :data:`PASSWORD`) or change their groups to exactly these."""
    user, created = User.objects.get_or_create(username=username)
    if created:
        first, _, last = (name or username.title()).partition(" ")
        user.first_name, user.last_name = first, last
        user.email = email or f"{username}@nexus.example"
        user.set_password(PASSWORD)
        user.save()
    elif email:
        User.objects.filter(pk=user.pk).update(email=email)
    user.groups.set([Group.objects.get_or_create(name=group)[0] for group in groups])
    return user


def client_register(*, redirect_uris: list[str], client_secret: str = CLIENT_SECRET) -> None:
    """The console as an OIDC client: confidential, code flow, RS256, no consent screen."""
    Application.objects.filter(client_id=CLIENT_ID).delete()
    Application.objects.create(
        name="NexusOps",
        client_id=CLIENT_ID,
        client_secret=client_secret,  # hashed on save
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


def health_client_register() -> None:
    """The console's provider health check (runbook 5.1): client credentials, no user."""
    Application.objects.filter(client_id=HEALTH_CLIENT_ID).delete()
    Application.objects.create(
        name="NexusOps health check",
        client_id=HEALTH_CLIENT_ID,
        client_secret=HEALTH_CLIENT_SECRET,  # hashed on save
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        algorithm=Application.RS256_ALGORITHM,
    )


def seed(*, redirect_uris: list[str]) -> None:
    for username, name, email, groups in PEOPLE:
        person_set(username, groups=groups, name=name, email=email)
    # Reset the demo people to their seeded groups (a demo may have moved them).
    for username, _name, _email, groups in PEOPLE:
        User.objects.get(username=username).groups.set(
            [Group.objects.get_or_create(name=group)[0] for group in groups]
        )
    admin, _ = User.objects.get_or_create(
        username=ADMIN[0], defaults={"is_staff": True, "is_superuser": True}
    )
    admin.set_password(ADMIN[1])
    admin.save()
    client_register(redirect_uris=redirect_uris)
    health_client_register()
