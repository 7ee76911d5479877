"""The PagerDuty stand-in's schedules: ``GET /schedules`` and ``GET /schedules/{id}``, and
``GET /users/{id}``, as strictly as PagerDuty's REST API v2.

Lists page by ``offset``/``limit`` (at most 100) and say ``more``; an unknown id is a 404 with
PagerDuty's error body (code 2100); a schedule carries its layers (``rotation_virtual_start``,
``rotation_turn_length_seconds``, the users in order) and, for ``since``/``until``, its
``final_schedule.rendered_schedule_entries``. A test or the demo loads schedules with
``POST /_standin/schedules`` ``{"schedules": [{"id", "name", "time_zone", "start",
"turn_seconds", "users": [ids]}], "users": [{"id", "name", "email"}]}`` (extra people besides
the demo workspace's).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from . import demo
from .common import Request, Response, route

MAX_LIMIT = 100


def _not_found() -> Response:
    return Response(404, {"error": {"message": "Not Found", "code": 2100}})


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class SchedulesMixin:
    """Mixed into ``PagerDutyStandin``; its state lives beside the incidents'."""

    def reset_schedules(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}
        self.extra_users: dict[str, dict[str, Any]] = {}

    def _people(self) -> dict[str, dict[str, Any]]:
        people = {
            f"P{username.upper()}": {"name": name, "email": email}
            for _slack_id, username, name, email in demo.SLACK_USERS
        }
        people.update(self.extra_users)
        return people

    def _user_ref(self, user_id: str) -> dict[str, Any]:
        person = self._people().get(user_id, {"name": user_id})
        return {"id": user_id, "type": "user_reference", "summary": person["name"]}

    def load_schedules(self, body: dict[str, Any]) -> Response:
        for user in body.get("users", []):
            self.extra_users[user["id"]] = {"name": user["name"], "email": user["email"]}
        for spec in body.get("schedules", []):
            self.schedules[spec["id"]] = spec
        return Response(200, {"ok": True, "schedules": sorted(self.schedules)})

    def _schedule(self, spec: dict[str, Any]) -> dict[str, Any]:
        users = [{"user": self._user_ref(u)} for u in spec["users"]]
        layer = {
            "id": f"L{spec['id']}",
            "name": "Layer 1",
            "start": spec["start"],
            "rotation_virtual_start": spec["start"],
            "rotation_turn_length_seconds": spec.get("turn_seconds", 604800),
            "users": users,
            "restrictions": spec.get("restrictions", []),
        }
        return {
            "id": spec["id"],
            "type": "schedule",
            "summary": spec["name"],
            "name": spec["name"],
            "time_zone": spec.get("time_zone", "UTC"),
            "description": spec.get("description", ""),
            "schedule_layers": [layer] + spec.get("more_layers", []),
            "users": [self._user_ref(u) for u in dict.fromkeys(spec["users"])],
        }

    def _rendered(self, spec: dict[str, Any], since: datetime, until: datetime) -> list[dict]:
        start, turn = _parse(spec["start"]), timedelta(seconds=spec.get("turn_seconds", 604800))
        users = spec["users"]
        if start is None or not users:
            return []
        index = max(int((since - start) / turn), 0)
        entries = []
        while True:
            lo, hi = start + index * turn, start + (index + 1) * turn
            if lo >= until:
                break
            if hi > since:
                entries.append(
                    {
                        "start": _iso(max(lo, since)),
                        "end": _iso(min(hi, until)),
                        "user": self._user_ref(users[index % len(users)]),
                    }
                )
            index += 1
        return entries

    @route("GET", r"/schedules")
    def schedules_list(self, request: Request) -> Response:
        query = (request.query.get("query") or "").lower()
        try:
            limit = int(request.query.get("limit") or 25)
            offset = int(request.query.get("offset") or 0)
        except ValueError:
            return Response(400, {"error": {"message": "Invalid Input Provided", "code": 2001}})
        limit = min(max(limit, 1), MAX_LIMIT)
        found = [
            self._schedule(s)
            for _id, s in sorted(self.schedules.items())
            if query in s["name"].lower()
        ]
        return Response(
            200,
            {
                "schedules": found[offset : offset + limit],
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(found),
                "total": None,
            },
        )

    @route("GET", r"/schedules/(?P<schedule_id>[^/]+)")
    def schedule_get(self, request: Request, schedule_id: str) -> Response:
        spec = self.schedules.get(schedule_id)
        if spec is None:
            return _not_found()
        body = self._schedule(spec)
        since = _parse(request.query.get("since") or "")
        until = _parse(request.query.get("until") or "")
        if (request.query.get("since") and since is None) or (
            request.query.get("until") and until is None
        ):
            return Response(
                400,
                {
                    "error": {
                        "message": "Invalid Input Provided",
                        "code": 2001,
                        "errors": ["since and until must be ISO 8601 times"],
                    }
                },
            )
        since = since or datetime.now(UTC)
        until = until or since + timedelta(weeks=2)
        body["final_schedule"] = {
            "name": "Final Schedule",
            "rendered_schedule_entries": self._rendered(spec, since, until),
        }
        return Response(200, {"schedule": body})

    @route("GET", r"/users/(?P<user_id>[^/]+)")
    def user_get(self, request: Request, user_id: str) -> Response:
        person = self._people().get(user_id)
        if person is None:
            return _not_found()
        return Response(
            200,
            {
                "user": {
                    "id": user_id,
                    "type": "user",
                    "name": person["name"],
                    "email": person["email"],
                    "summary": person["name"],
                }
            },
        )
