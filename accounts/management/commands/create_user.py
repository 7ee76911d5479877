"""``manage.py create_user USERNAME --role ROLE``: a person, in production too.

``seed_demo`` makes the demo people with a known password and refuses production mode; this
makes one real account in one role (a Django group, see ``nexusops.common.roles``) with its
profile, and optionally an API token for a script or CI::

    manage.py create_user maria --role incident-commander --email maria@example.com \
        --password-stdin < secret.txt
    manage.py create_user ci-bot --role incident-commander --api-token   # prints "Token: <key>"

Without ``--password-stdin`` the account has no usable password (token only, or set one later
with ``manage.py changepassword``). An existing username is refused: change people in the admin.
"""

from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidents.models import Profile
from nexusops.common import roles

ROLE_NAMES = {
    "manager": roles.MANAGER,
    "incident-commander": roles.INCIDENT_COMMANDER,
    "ic": roles.INCIDENT_COMMANDER,
    "responder": roles.RESPONDER,
    "stakeholder": roles.STAKEHOLDER,
}


class Command(BaseCommand):
    help = "Create one person in a role (manager, incident-commander, responder, stakeholder)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLE_NAMES))
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )
        parser.add_argument(
            "--api-token", action="store_true", help='Also create an API token; prints "Token: …".'
        )

    def handle(self, *args, username: str, role: str, **options):
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("Give a username.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"User {username!r} already exists; change it in the admin.")
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                raise CommandError("--password-stdin read an empty line.")
        with transaction.atomic():
            roles.roles_sync()  # the groups exist after migrate; this makes sure of it
            user = User(
                username=username,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
            if password is None:
                user.set_unusable_password()
            else:
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
                user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=ROLE_NAMES[role]))
            Profile.objects.get_or_create(user=user)
            token = None
            if options["api_token"]:
                from rest_framework.authtoken.models import Token

                token = Token.objects.create(user=user)
        self.stdout.write(f"Created {username} ({ROLE_NAMES[role]}).")
        if token is not None:
            self.stdout.write(f"Token: {token.key}")
