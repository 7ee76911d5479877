"""A PagerDuty stand-in: Events API v2 and the slice of REST API v2 our adapter uses, over HTTPS.

The ``pagerduty`` client library only accepts ``https://`` base URLs, so this stand-in serves
TLS with a throw-away CA made by ``trustme``; :func:`make_server` writes that CA's certificate
to ``ca_path`` for clients to trust (``PAGERDUTY_CA_BUNDLE``). Both APIs share one server:
point ``PAGERDUTY_EVENTS_URL`` and ``PAGERDUTY_API_URL`` at ``base_url``.

Incidents are kept by dedup key, so trigger/acknowledge/resolve change their status the way
PagerDuty does: a trigger on an open incident is deduplicated, one after a resolve opens a new
incident. Each incident keeps its status (triggered, acknowledged, resolved) and urgency, and
the REST API changes them as strictly as PagerDuty: ``PUT /incidents/{id}`` and the bulk
``PUT /incidents`` need the ``From`` header, a wrapped ``incident_reference``, and refuse to
move a resolved incident. ``GET /_standin/state`` lists them all, with ``open`` naming those
still triggered or acknowledged, so a test can assert nothing the console opened is left open.
``GET /users?query=`` finds the demo workspace's people by e-mail or name (ids ``P<USERNAME>``);
the Events API is in :mod:`nexusops.standins.pagerduty_events`, schedules in
:mod:`nexusops.standins.pagerduty_schedules`.
See :mod:`nexusops.standins.common` for control endpoints and adding routes.
"""

from __future__ import annotations

import argparse
import itertools
import uuid
from pathlib import Path
from typing import Any

from . import demo
from .common import (
    Request,
    Response,
    StandinApp,
    StandinServer,
    route,
    serve_until_interrupted,
)
from .pagerduty_events import EventsMixin, now_iso, set_status
from .pagerduty_schedules import SchedulesMixin

URGENCIES = ("high", "low")
# What the REST API lets a client set; PagerDuty has no way back to "triggered".
SETTABLE_STATUSES = ("acknowledged", "resolved")
BULK_LIMIT = 250  # PagerDuty's limit for one PUT /incidents
FROM_MISSING = "You must specify a user's email address in the From header"


def _rest_invalid(*errors: str) -> Response:
    return Response(
        400, {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": list(errors)}}
    )


def _pagerduty_user_id(username: str) -> str:
    """The demo account's id of a person: what ``seed_demo`` stores on their profile."""
    return f"P{username.upper()}"


class PagerDutyStandin(EventsMixin, SchedulesMixin, StandinApp):
    vendor = "pagerduty"

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url
        super().__init__()

    def reset_state(self) -> None:
        self.incidents: dict[str, dict[str, Any]] = {}  # id -> incident
        self.notes: dict[str, list[dict[str, Any]]] = {}  # incident id -> notes
        self._numbers = itertools.count(1)
        self.reset_schedules()

    def state(self) -> Any:
        return {
            "incidents": list(self.incidents.values()),
            "notes": self.notes,
            "open": [i["id"] for i in self.incidents.values() if i["status"] != "resolved"],
            "schedules": sorted(self.schedules),
        }

    def control(self, action: str, request: Request) -> Response | None:
        if request.method == "POST" and action == "schedules":
            return self.load_schedules(request.body if isinstance(request.body, dict) else {})
        return None

    def authorize(self, request: Request) -> Response | None:
        if request.path.startswith("/v2/"):
            return None  # the Events API authenticates by routing_key in the body
        token = request.header("Authorization").removeprefix("Token token=")
        if token == request.header("Authorization") or not token.strip():
            return Response(401, {"error": {"message": "Unauthorized", "code": 2006}})
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
        if status == 429:
            return Response(429, {"status": "throttle event", "message": "Rate limited"}, headers)
        return Response(status, {"error": {"message": "Internal Server Error"}}, headers)

    # --- REST API v2 ----------------------------------------------------------------------
    @route("GET", r"/users")
    def users_list(self, request: Request) -> Response:
        # PagerDuty's ``query`` matches names and e-mails; the account's people are the
        # demo workspace's (the same e-mails as the Slack stand-in's).
        query = (request.query.get("query") or "").lower()
        people = [
            {"id": _pagerduty_user_id(username), "type": "user", "name": name, "email": email}
            for _slack_id, username, name, email in demo.SLACK_USERS
        ]
        found = [p for p in people if query in p["email"].lower() or query in p["name"].lower()]
        limit = int(request.query.get("limit") or 25)
        offset = int(request.query.get("offset") or 0)
        return Response(
            200,
            {
                "users": found[offset : offset + limit],
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(found),
                "total": None,
            },
        )

    @route("GET", r"/incidents")
    def incidents_list(self, request: Request) -> Response:
        key = request.query.get("incident_key")
        statuses = [v for k, v in request.query_all if k in ("statuses[]", "statuses")]
        found = [
            i
            for i in self.incidents.values()
            if (key is None or i["incident_key"] == key)
            and (not statuses or i["status"] in statuses)
        ]
        limit = int(request.query.get("limit") or 25)
        offset = int(request.query.get("offset") or 0)
        page = found[offset : offset + limit]
        return Response(
            200,
            {
                "incidents": page,
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(found),
                "total": len(found) if request.query.get("total") == "true" else None,
            },
        )

    @route("POST", r"/incidents")
    def incident_create(self, request: Request) -> Response:
        """REST v2 create: needs ``From``, a service reference and an unused open key."""
        if "@" not in request.header("From"):
            return _rest_invalid(FROM_MISSING)
        body = request.body if isinstance(request.body, dict) else {}
        data = body.get("incident") if isinstance(body.get("incident"), dict) else None
        if data is None:
            return _rest_invalid("Incident object is required")
        service = data.get("service") or {}
        errors = []
        if not data.get("title"):
            errors.append("Title can't be blank")
        if not service.get("id") or service.get("type") != "service_reference":
            errors.append("Service must be a service_reference")
        if data.get("urgency", "high") not in ("high", "low"):
            errors.append("Urgency is invalid")
        assignees = [a.get("assignee") or {} for a in data.get("assignments") or []]
        if any(a.get("type") != "user_reference" or not a.get("id") for a in assignees):
            errors.append("Assignments must be user_reference")
        if errors:
            return _rest_invalid(*errors)
        key = data.get("incident_key") or uuid.uuid4().hex
        if self._open_incident(key) is not None:
            return _rest_invalid(f"Open incident with key {key!r} already exists")
        incident = self._incident_new(
            key,
            data["title"],
            data.get("urgency", "high"),
            request.header("From"),
            service={"id": service["id"], "type": "service_reference"},
            assignments=[
                {"assignee": {"id": a["id"], "type": "user_reference"}} for a in assignees
            ],
            body=data.get("body") or {},
            created_by=request.header("From"),
        )
        return Response(201, {"incident": incident})

    @route("GET", r"/incidents/(?P<incident_id>[A-Z0-9]+)")
    def incident_get(self, request: Request, incident_id: str) -> Response:
        incident = self.incidents.get(incident_id)
        if incident is None:
            return Response(404, {"error": {"message": "Not Found", "code": 2100}})
        return Response(200, {"incident": incident})

    @route("PUT", r"/incidents/(?P<incident_id>[A-Z0-9]+)")
    def incident_update(self, request: Request, incident_id: str) -> Response:
        """REST v2 update: ``{"incident": {"type": "incident_reference", "status": ...}}``."""
        if "@" not in request.header("From"):
            return _rest_invalid(FROM_MISSING)
        incident = self.incidents.get(incident_id)
        if incident is None:
            return Response(404, {"error": {"message": "Not Found", "code": 2100}})
        body = request.body if isinstance(request.body, dict) else {}
        data = body.get("incident") if isinstance(body.get("incident"), dict) else None
        if data is None:
            return _rest_invalid("Incident object is required")
        errors = _update_errors(incident, data)
        if errors:
            return _rest_invalid(*errors)
        _apply_update(incident, data, request.header("From"))
        return Response(200, {"incident": incident})

    @route("PUT", r"/incidents")
    def incidents_update(self, request: Request) -> Response:
        """REST v2 bulk update: every change is checked before any is made."""
        if "@" not in request.header("From"):
            return _rest_invalid(FROM_MISSING)
        body = request.body if isinstance(request.body, dict) else {}
        items = body.get("incidents")
        if not isinstance(items, list) or not items:
            return _rest_invalid("Incidents array is required")
        if len(items) > BULK_LIMIT:
            return _rest_invalid(f"At most {BULK_LIMIT} incidents can be updated at once")
        errors: list[str] = []
        found = []
        for data in items:
            incident = self.incidents.get(data.get("id")) if isinstance(data, dict) else None
            if incident is None:
                errors.append(
                    f"Incident {data.get('id') if isinstance(data, dict) else data!r} not found"
                )
                continue
            errors.extend(f"{incident['id']}: {e}" for e in _update_errors(incident, data))
            found.append((incident, data))
        if errors:
            return _rest_invalid(*errors)
        for incident, data in found:
            _apply_update(incident, data, request.header("From"))
        return Response(200, {"incidents": [incident for incident, _ in found]})

    @route("GET", r"/incidents/(?P<incident_id>[A-Z0-9]+)/notes")
    def notes_list(self, request: Request, incident_id: str) -> Response:
        if incident_id not in self.incidents:
            return Response(404, {"error": {"message": "Not Found", "code": 2100}})
        return Response(200, {"notes": self.notes.get(incident_id, [])})

    @route("POST", r"/incidents/(?P<incident_id>[A-Z0-9]+)/notes")
    def notes_create(self, request: Request, incident_id: str) -> Response:
        if incident_id not in self.incidents:
            return Response(404, {"error": {"message": "Not Found", "code": 2100}})
        sender = request.header("From")
        if "@" not in sender:
            return Response(
                400,
                {
                    "error": {
                        "message": "You must specify a user's email address in the From header",
                        "code": 2001,
                    }
                },
            )
        body = request.body if isinstance(request.body, dict) else {}
        content = (body.get("note") or {}).get("content")
        if not content:
            return Response(
                400,
                {
                    "error": {
                        "message": "Invalid Input Provided",
                        "code": 2001,
                        "errors": ["Note content is required"],
                    }
                },
            )
        note = {
            "id": f"N{uuid.uuid4().hex[:12].upper()}",
            "content": content,
            "created_at": now_iso(),
            "user": {"type": "user_reference", "summary": sender},
        }
        self.notes.setdefault(incident_id, []).append(note)
        return Response(201, {"note": note})


def _update_errors(incident: dict[str, Any], data: dict[str, Any]) -> list[str]:
    errors = []
    if data.get("type") not in ("incident", "incident_reference"):
        errors.append("Type must be incident or incident_reference")
    status = data.get("status")
    if status is not None and status not in SETTABLE_STATUSES:
        errors.append("Status must be acknowledged or resolved")
    if data.get("urgency") is not None and data["urgency"] not in URGENCIES:
        errors.append("Urgency is invalid")
    # PagerDuty keeps a resolved incident resolved: a later change is refused, not ignored.
    if incident["status"] == "resolved" and (status is not None or "urgency" in data):
        errors.append("Incident Already Resolved")
    return errors


def _apply_update(incident: dict[str, Any], data: dict[str, Any], sender: str) -> None:
    if data.get("urgency"):
        incident["urgency"] = data["urgency"]
    if data.get("status"):
        set_status(incident, data["status"], by=sender)
    if data.get("resolution"):
        incident["resolution"] = data["resolution"]


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, ca_path: str | Path | None = None
) -> tuple[StandinServer, str]:
    """A PagerDuty stand-in over HTTPS, not yet serving.

    Its certificate is signed by a fresh ``trustme`` CA, written as PEM to ``ca_path`` when
    given (and always available as ``server.ca_pem``).
    """
    import ssl

    import trustme  # a test/demo dependency: imported only when a stand-in is made

    ca = trustme.CA()
    cert = ca.issue_cert(*dict.fromkeys([host, "127.0.0.1", "localhost"]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    app = PagerDutyStandin()
    server = StandinServer((host, port), app, ssl_context=context)
    app.base_url = server.base_url
    server.ca_pem = ca.cert_pem.bytes()  # type: ignore[attr-defined]
    if ca_path is not None:
        ca.cert_pem.write_to_path(str(ca_path))
    return server, server.base_url


def serve_forever(host: str = "127.0.0.1", port: int = 0, *, ca_path: str | None = None) -> None:
    server, _ = make_server(host, port, ca_path=ca_path)
    serve_until_interrupted(server, "PagerDuty")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="PagerDuty Events v2 + REST v2 stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ca-path", default="var/standin-pagerduty-ca.pem")
    options = parser.parse_args()
    serve_forever(options.host, options.port, ca_path=options.ca_path)
