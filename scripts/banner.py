"""Printed by `make run` before the processes start."""

import os

PORT = os.environ.get("PORT", "8000")

print(
    f"""
  NexusOps is starting on the embedded default (SQLite, filesystem broker, local stand-ins).

  Open  http://127.0.0.1:{PORT}/   (public status page: /status/, API docs: /api/docs/)

  Demo logins (password: nexusops)
    ic           Incident Commander: declares and drives incidents
    responder    Responder: acknowledges, adds notes, runs diagnosis
    manager      Manager: reviews post-mortems, reports, edits runbook data (admin)
    stakeholder  Stakeholder: read-only timelines
    admin        superuser
    ceo          Stakeholder, paged by escalation tier 4 (data breach, major impact)

  Or "Sign in with NEXUS SSO" (the demo identity provider, password: nexus-sso-demo)
    casey  rory  morgan  sasha   commander, responder, manager, stakeholder by their groups

  Ctrl-C stops the web server, the worker, beat and the stand-ins together.
"""
)
