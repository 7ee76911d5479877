"""``manage.py create_user``: real accounts in a role, for production (seed_demo refuses it)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from incidents.models import Profile
from nexusops.common import roles

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("create_user", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_creates_a_person_in_a_role_with_a_profile_and_a_token(client):
    out = run(
        "maria", "--role", "incident-commander", "--email", "maria@nexus.example", "--api-token"
    )
    user = get_user_model().objects.get(username="maria")
    assert roles.user_role(user) == roles.INCIDENT_COMMANDER
    assert Profile.objects.filter(user=user).exists()
    assert not user.has_usable_password()
    key = out.strip().splitlines()[-1].removeprefix("Token: ")
    assert Token.objects.get(user=user).key == key
    # The token works on the API, with the role's permissions.
    me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert me.status_code == 200, me.content


def test_a_password_is_read_from_stdin_and_validated(client):
    with pytest.raises(CommandError, match="Password refused"):
        run("sam", "--role", "stakeholder", "--password-stdin", stdin="password\n")
    assert not get_user_model().objects.filter(username="sam").exists()
    run("sam", "--role", "stakeholder", "--password-stdin", stdin="long-Enough-passphrase-42\n")
    assert client.login(username="sam", password="long-Enough-passphrase-42")


def test_an_existing_username_is_refused():
    run("olga", "--role", "manager")
    with pytest.raises(CommandError, match="already exists"):
        run("olga", "--role", "responder")
    assert roles.user_role(get_user_model().objects.get(username="olga")) == roles.MANAGER
