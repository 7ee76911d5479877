"""A SendGrid Web API v3 stand-in: the key's scopes and the delivery stats (runbook 5.3).

Speaks what the health check reads, as strictly as SendGrid does:

* ``GET /v3/scopes`` - the calling key's scopes; a missing or unknown key answers 401
  ``{"errors": [{"field": null, "message": "authorization required"}]}``;
* ``GET /v3/stats?start_date=YYYY-MM-DD[&end_date=][&aggregated_by=day|week|month]`` - the
  global stats per day (``requests``, ``delivered``, ``bounces``, ``blocks``, ...). Needs the
  ``stats.read`` scope (403 ``access forbidden`` without it); a missing or malformed
  ``start_date``, an end before the start or an unknown ``aggregated_by`` answers 400 naming
  the field;
* 600 requests a minute per key, then 429 with ``X-RateLimit-Limit``/``-Remaining``/``-Reset``.

Control: ``POST /_standin/stats`` ``{"date": "YYYY-MM-DD", "metrics": {...}}`` sets one day's
figures; ``POST /_standin/keys`` ``{"key": ..., "scopes": [...]}`` adds a key.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from .common import Request, Response, StandinApp, StandinServer, route, serve_until_interrupted
from .ratelimit import RateLimiter

DEMO_KEY = "SG.nexusops-demo.health-check-key"
METRICS = (
    "blocks",
    "bounce_drops",
    "bounces",
    "clicks",
    "deferred",
    "delivered",
    "invalid_emails",
    "opens",
    "processed",
    "requests",
    "spam_report_drops",
    "spam_reports",
    "unique_clicks",
    "unique_opens",
    "unsubscribe_drops",
    "unsubscribes",
)
RATE_LIMIT = 600


def _errors(status: int, message: str, field: str | None = None) -> Response:
    return Response(status, {"errors": [{"field": field, "message": message}]})


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


class SendGridApp(StandinApp):
    vendor = "sendgrid"

    def reset_state(self) -> None:
        self.keys: dict[str, list[str]] = {
            DEMO_KEY: ["mail.send", "stats.read", "suppression.read"]
        }
        self.days: dict[str, dict[str, int]] = {}
        self.limiter = RateLimiter(60.0)

    def state(self) -> Any:
        return {"keys": sorted(self.keys), "days": self.days}

    def authorize(self, request: Request) -> Response | None:
        header = request.header("Authorization")
        key = header[7:] if header.startswith("Bearer ") else ""
        if key not in self.keys:
            return _errors(401, "authorization required")
        wait = self.limiter.take(key, RATE_LIMIT)
        if wait is not None:
            response = _errors(429, "too many requests")
            response.headers.update(
                {
                    "X-RateLimit-Limit": str(RATE_LIMIT),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + wait),
                }
            )
            return response
        request.headers["X-Standin-Key"] = key
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        response = _errors(status, f"injected fault {status}")
        if retry_after is not None:
            response.headers["X-RateLimit-Reset"] = str(int(time.time() + retry_after))
        return response

    def not_found(self, request: Request) -> Response:
        return _errors(404, "resource not found")

    @route("GET", r"/v3/scopes")
    def scopes(self, request: Request) -> Response:
        return Response(200, {"scopes": self.keys[request.headers["X-Standin-Key"]]})

    @route("GET", r"/v3/stats")
    def stats(self, request: Request) -> Response:
        if "stats.read" not in self.keys[request.headers["X-Standin-Key"]]:
            return _errors(403, "access forbidden")
        raw_start = request.query.get("start_date", "")
        start = _date(raw_start)
        if not raw_start:
            return _errors(400, "missing required argument", "start_date")
        if start is None:
            return _errors(400, "date must be in YYYY-MM-DD format", "start_date")
        end = _date(request.query.get("end_date", "")) if "end_date" in request.query else None
        if "end_date" in request.query and end is None:
            return _errors(400, "date must be in YYYY-MM-DD format", "end_date")
        end = end or dt.datetime.now(dt.UTC).date()
        if end < start:
            return _errors(400, "end_date must be after start_date", "end_date")
        if request.query.get("aggregated_by", "day") not in ("day", "week", "month"):
            return _errors(400, "aggregated_by must be day, week or month", "aggregated_by")
        rows = []
        day = start
        while day <= end:
            figures = self.days.get(day.isoformat(), {})
            metrics = {name: int(figures.get(name, 0)) for name in METRICS}
            rows.append({"date": day.isoformat(), "stats": [{"metrics": metrics}]})
            day += dt.timedelta(days=1)
        return Response(200, rows)

    def control(self, action: str, request: Request) -> Response | None:
        body = request.body if isinstance(request.body, dict) else {}
        if action == "stats":
            day = _date(str(body.get("date", "")))
            metrics = body.get("metrics")
            if day is None or not isinstance(metrics, dict) or set(metrics) - set(METRICS):
                return Response(400, {"error": "date (YYYY-MM-DD) and known metrics required"})
            self.days[day.isoformat()] = {k: int(v) for k, v in metrics.items()}
            return Response(200, {"ok": True})
        if action == "keys" and isinstance(body.get("key"), str):
            self.keys[body["key"]] = list(body.get("scopes") or [])
            return Response(200, {"ok": True})
        return None


def seed_demo(app: SendGridApp) -> None:
    """A week of mail with a bounce spike today, so the 5.3 check has something to flag."""
    today = dt.datetime.now(dt.UTC).date()
    for back in range(7):
        day = today - dt.timedelta(days=back)
        bounces, blocks = (260, 40) if back == 0 else (30, 5)
        app.days[day.isoformat()] = {
            "requests": 5000,
            "processed": 5000,
            "delivered": 5000 - bounces - blocks,
            "bounces": bounces,
            "blocks": blocks,
            "deferred": 12,
        }


def make_server(host: str = "127.0.0.1", port: int = 0) -> tuple[StandinServer, SendGridApp]:
    app = SendGridApp()
    return StandinServer((host, port), app), app


if __name__ == "__main__":
    server, app = make_server(port=8107)
    seed_demo(app)
    serve_until_interrupted(server, "SendGrid")
