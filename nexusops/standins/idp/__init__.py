"""NEXUS SSO: the demo's local OpenID Connect provider (django-oauth-toolkit).

A small Django site of its own, in its own process and SQLite file, so the console signs in
through a real provider over real HTTP: discovery, authorization code with PKCE, signed
id_tokens, a JWKS and userinfo. ``make run`` starts it (Procfile.dev ``idp``)::

    python -m nexusops.standins.idp            # http://127.0.0.1:8109/o/

People sign in at its own login page; their Django groups there are the ``groups`` claim.
The demo's four people and groups (see :data:`PEOPLE`) map to the console's four roles.
Move someone between groups in its admin (http://127.0.0.1:8109/admin/, idp-admin /
nexus-idp-admin) and they get the new role at their next sign-in to the console.

Like the other stand-ins it has a control API (tests use it; bound to 127.0.0.1 only):

* ``POST /_standin/people`` ``{"username", "groups": [...], "email"?}`` - create or regroup;
* ``POST /_standin/client`` ``{"redirect_uris": [...], "client_secret"?}`` - re-register;
* ``POST /_standin/fault`` ``{"fault": "bad_signature" | "wrong_audience" | "expired" |
  "replay" | ""}`` - the next id_tokens it issues are broken that way (until reset);
* ``POST /_standin/reset`` - no fault, the demo people and client as seeded.
"""

from __future__ import annotations

import os

HOST = "127.0.0.1"
# Beside the vendor stand-ins (8101-8106) on the same base, outside their block.
PORT_OFFSET = 9
CLIENT_ID = "nexusops-demo"
CLIENT_SECRET = "nexusops-demo-sso-secret"  # noqa: S105 - the demo's, printed in the README
# The console's health check of the provider (runbook 5.1): a client-credentials client.
HEALTH_CLIENT_ID = "nexusops-health-check"
HEALTH_CLIENT_SECRET = "nexusops-demo-health-secret"  # noqa: S105 - the demo's
PASSWORD = "nexus-sso-demo"  # noqa: S105 - every demo person's password at the demo IdP
ADMIN = ("idp-admin", "nexus-idp-admin")

# username, name, e-mail, groups. The Slack stand-in's workspace knows these e-mails too
# (demo.SLACK_USERS), so the console links each person to their Slack user at first sign-in.
PEOPLE = [
    ("casey", "Casey Commander", "casey@nexus.example", ["nexus-incident-commanders"]),
    ("rory", "Rory Responder", "rory@nexus.example", ["nexus-responders"]),
    ("morgan", "Morgan Manager", "morgan@nexus.example", ["nexus-managers"]),
    ("sasha", "Sasha Stakeholder", "sasha@nexus.example", ["nexus-stakeholders"]),
]


def port(base: int | None = None) -> int:
    if base is None:
        base = int(os.environ.get("NEXUSOPS_STANDIN_PORT_BASE", "8100"))
    return base + PORT_OFFSET


def issuer(base: int | None = None) -> str:
    return f"http://{HOST}:{port(base)}/o"
