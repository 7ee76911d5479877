"""An Atlassian Statuspage REST API v1 stand-in: components, incidents, scheduled maintenances.

Paths are ``/v1/pages/{page_id}/...``: point ``STATUSPAGE_API_URL`` at ``f"{base_url}/v1"``.
Requests need ``Authorization: OAuth <key>``. Every page starts with the components given to
:func:`make_server` (a few NEXUS-like defaults). Scheduled maintenances are incidents with
``status: scheduled``, as in the real API. See :mod:`nexusops.standins.common` for control
endpoints (inject ``{"status": 420}`` or ``429`` to play the rate limiter) and adding routes.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .common import (
    Request,
    Response,
    StandinApp,
    StandinServer,
    route,
    serve_until_interrupted,
)

COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
DEFAULT_COMPONENTS = ("API", "Web dashboard", "Notifications")
_PAGE = r"/v1/pages/(?P<page_id>[A-Za-z0-9_-]+)"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _error(status: int, message: str) -> Response:
    return Response(status, {"error": message})


class StatuspageStandin(StandinApp):
    vendor = "statuspage"

    def __init__(self, components: Sequence[str] = DEFAULT_COMPONENTS) -> None:
        self.seed_components = tuple(components)
        super().__init__()

    def reset_state(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def state(self) -> Any:
        return self.pages

    def authorize(self, request: Request) -> Response | None:
        if not request.header("Authorization").startswith("OAuth "):
            return _error(401, "Could not authenticate")
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
        if status in (420, 429):
            return Response(status, {"error": "Rate limit exceeded"}, headers)
        return Response(status, {"error": "Internal server error"}, headers)

    def _page(self, page_id: str) -> dict[str, Any]:
        page = self.pages.get(page_id)
        if page is None:
            page = {"components": {}, "incidents": {}}
            self.pages[page_id] = page
            for position, name in enumerate(self.seed_components, start=1):
                self._component_new(page_id, page, name, position)
        return page

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):011d}"

    def _component_new(
        self, page_id: str, page: dict[str, Any], name: str, position: int
    ) -> dict[str, Any]:
        component = {
            "id": self._new_id("c"),
            "page_id": page_id,
            "group_id": None,
            "name": name,
            "description": "",
            "position": position,
            "status": "operational",
            "showcase": True,
            "only_show_if_degraded": False,
            "group": False,
            "created_at": _now(),
            "updated_at": _now(),
        }
        page["components"][component["id"]] = component
        return component

    def _body(self, request: Request, key: str) -> dict[str, Any] | None:
        body = request.body if isinstance(request.body, dict) else {}
        value = body.get(key)
        return value if isinstance(value, dict) else None

    def _apply_components(self, page: dict[str, Any], statuses: dict[str, str]) -> str | None:
        for component_id, status in statuses.items():
            if component_id not in page["components"]:
                return f"component {component_id} not found"
            if status not in COMPONENT_STATUSES:
                return f"invalid component status {status}"
        for component_id, status in statuses.items():
            page["components"][component_id]["status"] = status
            page["components"][component_id]["updated_at"] = _now()
        return None

    # --- components -----------------------------------------------------------------------
    @route("GET", _PAGE + r"/components")
    def components_list(self, request: Request, page_id: str) -> Response:
        return Response(200, list(self._page(page_id)["components"].values()))

    @route("POST", _PAGE + r"/components")
    def components_create(self, request: Request, page_id: str) -> Response:
        spec = self._body(request, "component")
        if not spec or not spec.get("name"):
            return _error(422, "component name is required")
        page = self._page(page_id)
        component = self._component_new(page_id, page, spec["name"], len(page["components"]) + 1)
        if spec.get("status"):
            error = self._apply_components(page, {component["id"]: spec["status"]})
            if error:
                return _error(422, error)
        return Response(201, component)

    @route("PATCH|PUT", _PAGE + r"/components/(?P<component_id>[a-z0-9]+)")
    def components_update(self, request: Request, page_id: str, component_id: str) -> Response:
        page = self._page(page_id)
        component = page["components"].get(component_id)
        if component is None:
            return _error(404, "The requested resource could not be found.")
        spec = self._body(request, "component")
        if spec is None:
            return _error(400, "component is missing")
        if "status" in spec:
            error = self._apply_components(page, {component_id: spec["status"]})
            if error:
                return _error(422, error)
        for key in ("name", "description"):
            if key in spec:
                component[key] = spec[key]
        return Response(200, component)

    # --- incidents and scheduled maintenances ---------------------------------------------
    @route("GET", _PAGE + r"/incidents")
    def incidents_list(self, request: Request, page_id: str) -> Response:
        """Newest first, ``limit`` (max 100) per ``page``; ``q`` searches the incidents' name,
        status, postmortem body and update bodies, as the real API documents (not metadata)."""
        incidents = self._newest_first(page_id)
        q = request.query.get("q", "").strip().lower()
        if q:
            incidents = [i for i in incidents if q in _searchable(i)]
        size = _bounded(request.query.get("limit"), 100)
        return Response(200, _paged(incidents, request.query.get("page"), size))

    @route("GET", _PAGE + r"/incidents/(?P<which>unresolved|scheduled)")
    def incidents_filtered(self, request: Request, page_id: str, which: str) -> Response:
        incidents = self._newest_first(page_id)
        if which == "scheduled":
            chosen = [i for i in incidents if i["status"] == "scheduled"]
        else:
            chosen = [i for i in incidents if i["status"] in INCIDENT_STATUSES[:3]]
        size = _bounded(request.query.get("per_page"), 100)
        return Response(200, _paged(chosen, request.query.get("page"), size))

    @route("GET", _PAGE + r"/incidents/(?P<incident_id>i[0-9]+)")
    def incidents_get(self, request: Request, page_id: str, incident_id: str) -> Response:
        incident = self._page(page_id)["incidents"].get(incident_id)
        if incident is None:
            return _error(404, "The requested resource could not be found.")
        return Response(200, incident)

    def _newest_first(self, page_id: str) -> list[dict[str, Any]]:
        return sorted(
            self._page(page_id)["incidents"].values(),
            key=lambda i: (i["created_at"], i["id"]),
            reverse=True,
        )

    @route("POST", _PAGE + r"/incidents")
    def incidents_create(self, request: Request, page_id: str) -> Response:
        spec = self._body(request, "incident")
        if not spec or not spec.get("name"):
            return _error(422, "incident name is required")
        page = self._page(page_id)
        status = spec.get("status") or "investigating"
        if status not in INCIDENT_STATUSES + MAINTENANCE_STATUSES:
            return _error(422, f"invalid status {status}")
        scheduled = status in MAINTENANCE_STATUSES
        if scheduled and not (spec.get("scheduled_for") and spec.get("scheduled_until")):
            return _error(422, "scheduled_for and scheduled_until are required")
        metadata = spec.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(
            isinstance(v, dict) for v in metadata.values()
        ):
            return _error(422, "metadata: all top-level values must be objects")
        component_ids = list(spec.get("component_ids") or [])
        statuses = dict(spec.get("components") or {})
        unknown = [c for c in component_ids + list(statuses) if c not in page["components"]]
        if unknown:
            return _error(422, f"component {unknown[0]} not found")
        error = self._apply_components(page, statuses)
        if error:
            return _error(422, error)
        incident_id = self._new_id("i")
        incident = {
            "id": incident_id,
            "page_id": page_id,
            "name": spec["name"],
            "status": status,
            "impact": spec.get("impact_override") or ("maintenance" if scheduled else "minor"),
            "created_at": _now(),
            "updated_at": _now(),
            "resolved_at": _now() if status in ("resolved", "completed") else None,
            "shortlink": f"https://stspg.io/{incident_id}",
            "scheduled_for": spec.get("scheduled_for"),
            "scheduled_until": spec.get("scheduled_until"),
            "scheduled_remind_prior": bool(spec.get("scheduled_remind_prior", False)),
            "scheduled_auto_in_progress": bool(spec.get("scheduled_auto_in_progress", False)),
            "scheduled_auto_completed": bool(spec.get("scheduled_auto_completed", False)),
            "deliver_notifications": spec.get("deliver_notifications", True),
            "metadata": metadata,
            "postmortem_body": None,
            "components": [
                page["components"][c] for c in dict.fromkeys(component_ids + list(statuses))
            ],
            "incident_updates": [],
        }
        self._add_update(incident, status, spec.get("body") or "")
        page["incidents"][incident_id] = incident
        return Response(201, incident)

    @route("PATCH|PUT", _PAGE + r"/incidents/(?P<incident_id>[a-z0-9]+)")
    def incidents_update(self, request: Request, page_id: str, incident_id: str) -> Response:
        page = self._page(page_id)
        incident = page["incidents"].get(incident_id)
        if incident is None:
            return _error(404, "The requested resource could not be found.")
        spec = self._body(request, "incident")
        if spec is None:
            return _error(400, "incident is missing")
        status = spec.get("status", incident["status"])
        if status not in INCIDENT_STATUSES + MAINTENANCE_STATUSES:
            return _error(422, f"invalid status {status}")
        error = self._apply_components(page, dict(spec.get("components") or {}))
        if error:
            return _error(422, error)
        for key in ("name", "impact_override"):
            if key in spec:
                incident["impact" if key == "impact_override" else key] = spec[key]
        if status != incident["status"] or spec.get("body"):
            self._add_update(incident, status, spec.get("body") or "")
        incident["status"] = status
        incident["updated_at"] = _now()
        if status in ("resolved", "completed"):
            incident["resolved_at"] = _now()
        return Response(200, incident)

    def _add_update(self, incident: dict[str, Any], status: str, body: str) -> None:
        incident["incident_updates"].insert(
            0,
            {
                "id": self._new_id("u"),
                "incident_id": incident["id"],
                "status": status,
                "body": body,
                "created_at": _now(),
                "display_at": _now(),
            },
        )


def _searchable(incident: dict[str, Any]) -> str:
    parts = [incident["name"], incident["status"], incident.get("postmortem_body") or ""]
    parts += [u["body"] for u in incident["incident_updates"]]
    return "\n".join(parts).lower()


def _bounded(value: str | None, ceiling: int) -> int:
    try:
        return max(1, min(ceiling, int(value))) if value else ceiling
    except ValueError:
        return ceiling


def _paged(items: list[dict[str, Any]], page: str | None, size: int) -> list[dict[str, Any]]:
    try:
        number = max(1, int(page)) if page else 1
    except ValueError:
        number = 1
    return items[(number - 1) * size : number * size]


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    components: Sequence[str] = DEFAULT_COMPONENTS,
) -> tuple[StandinServer, str]:
    """A Statuspage stand-in, not yet serving. ``STATUSPAGE_API_URL`` is ``f"{base_url}/v1"``."""
    server = StandinServer((host, port), StatuspageStandin(components))
    return server, server.base_url


def serve_forever(host: str = "127.0.0.1", port: int = 0) -> None:
    server, _ = make_server(host, port)
    serve_until_interrupted(server, "Statuspage")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Atlassian Statuspage API v1 stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    serve_forever(options.host, options.port)
