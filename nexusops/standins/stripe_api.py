"""A Stripe API stand-in: the account, webhook endpoints and events (runbook 5.4).

What the health check reads, answered as Stripe does:

* ``GET /v1/account``; ``GET /v1/webhook_endpoints``; ``GET /v1/events`` with ``limit``
  (1-100), ``starting_after``, ``type``, ``delivery_success`` (``true``/``false``: whether
  every webhook endpoint got the event) and ``created[gt|gte|lt|lte]``;
* a missing or unknown secret key answers 401 ``invalid_request_error`` ("Invalid API Key
  provided: sk_test_****abcd"), a publishable key 403 (it may not read these); an unknown
  parameter, a non-integer or out-of-range ``limit`` 400 naming ``param``; an unknown
  ``starting_after`` 404 ``resource_missing``;
* 25 requests a second per key (test mode's limit), then 429 ``rate_limit_error``.

Control: ``POST /_standin/events`` ``{"type", "delivered": bool, "created"?}`` adds an event;
``POST /_standin/endpoints`` ``{"url", "status": "enabled"|"disabled"}`` adds an endpoint.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from .common import Request, Response, StandinApp, StandinServer, route, serve_until_interrupted
from .ratelimit import RateLimiter

DEMO_KEY = "sk_test_nexusopsdemo0000000000000000"  # noqa: S105 - the stand-in's own
RATE_LIMIT = 25
_CREATED = re.compile(r"created\[(gt|gte|lt|lte)\]\Z")


def _error(status: int, kind: str, message: str, **extra: str) -> Response:
    return Response(status, {"error": {"type": kind, "message": message, **extra}})


def _masked(key: str) -> str:
    return f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"


class StripeApp(StandinApp):
    vendor = "stripe"

    def reset_state(self) -> None:
        self.keys = {DEMO_KEY}
        self.events: list[dict[str, Any]] = []
        self.endpoints: list[dict[str, Any]] = []
        self.ids = itertools.count(1)
        self.limiter = RateLimiter(1.0)

    def state(self) -> Any:
        return {"events": self.events, "webhook_endpoints": self.endpoints}

    def authorize(self, request: Request) -> Response | None:
        header = request.header("Authorization")
        key = header[7:] if header.startswith("Bearer ") else ""
        if not key:
            return _error(401, "invalid_request_error", "You did not provide an API key.")
        if key.startswith("pk_"):
            return _error(
                403,
                "invalid_request_error",
                "This API call cannot be made with a publishable API key.",
            )
        if key not in self.keys:
            return _error(401, "invalid_request_error", f"Invalid API Key provided: {_masked(key)}")
        if self.limiter.take(key, RATE_LIMIT) is not None:
            return _error(429, "rate_limit_error", "Too many requests hit the API too quickly.")
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        kind = "rate_limit_error" if status == 429 else "api_error"
        response = _error(status, kind, f"injected fault {status}")
        if retry_after is not None:
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    def not_found(self, request: Request) -> Response:
        return _error(
            404,
            "invalid_request_error",
            f"Unrecognized request URL ({request.method}: {request.path}).",
        )

    @route("GET", r"/v1/account")
    def account(self, request: Request) -> Response:
        return Response(
            200,
            {
                "id": "acct_nexusdemo",
                "object": "account",
                "charges_enabled": True,
                "payouts_enabled": True,
            },
        )

    @route("GET", r"/v1/webhook_endpoints")
    def webhook_endpoints(self, request: Request) -> Response:
        return self._page(request, self.endpoints, "/v1/webhook_endpoints", set())

    @route("GET", r"/v1/events")
    def list_events(self, request: Request) -> Response:
        rows = self.events
        known = {"type", "delivery_success"}
        for name, value in request.query_all:
            found = _CREATED.match(name)
            if found:
                if not value.isdigit():
                    return _error(
                        400, "invalid_request_error", f"Invalid integer: {value}", param=name
                    )
                op, bound = found.group(1), int(value)
                rows = [e for e in rows if _compare(e["created"], op, bound)]
        if "type" in request.query:
            rows = [e for e in rows if e["type"] == request.query["type"]]
        if "delivery_success" in request.query:
            wanted = request.query["delivery_success"]
            if wanted not in ("true", "false"):
                return _error(
                    400,
                    "invalid_request_error",
                    f"Invalid boolean: {wanted}",
                    param="delivery_success",
                )
            rows = [e for e in rows if (e["pending_webhooks"] == 0) == (wanted == "true")]
        return self._page(request, rows, "/v1/events", known)

    def _page(self, request: Request, rows: list, url: str, known: set[str]) -> Response:
        for name, _value in request.query_all:
            if name not in known | {"limit", "starting_after"} and not _CREATED.match(name):
                return _error(
                    400, "invalid_request_error", f"Received unknown parameter: {name}", param=name
                )
        raw = request.query.get("limit", "10")
        if not raw.lstrip("-").isdigit():
            return _error(400, "invalid_request_error", f"Invalid integer: {raw}", param="limit")
        limit = int(raw)
        if not 1 <= limit <= 100:
            return _error(
                400, "invalid_request_error", "Limit must be between 1 and 100.", param="limit"
            )
        ordered = sorted(rows, key=lambda r: (r.get("created", 0), r["id"]), reverse=True)
        after = request.query.get("starting_after")
        if after:
            ids = [r["id"] for r in ordered]
            if after not in ids:
                return _error(
                    404,
                    "invalid_request_error",
                    f"No such object: '{after}'",
                    code="resource_missing",
                    param="starting_after",
                )
            ordered = ordered[ids.index(after) + 1 :]
        return Response(
            200,
            {
                "object": "list",
                "url": url,
                "has_more": len(ordered) > limit,
                "data": ordered[:limit],
            },
        )

    def control(self, action: str, request: Request) -> Response | None:
        body = request.body if isinstance(request.body, dict) else {}
        if action == "events" and isinstance(body.get("type"), str):
            self.events.append(
                {
                    "id": f"evt_{next(self.ids):024d}",
                    "object": "event",
                    "type": body["type"],
                    "created": int(body.get("created") or time.time()),
                    "livemode": False,
                    "pending_webhooks": 0 if body.get("delivered", True) else 1,
                    "data": {"object": {}},
                    "api_version": "2024-06-20",
                }
            )
            return Response(200, self.events[-1])
        if action == "endpoints" and isinstance(body.get("url"), str):
            self.endpoints.append(
                {
                    "id": f"we_{next(self.ids):024d}",
                    "object": "webhook_endpoint",
                    "url": body["url"],
                    "status": body.get("status", "enabled"),
                    "enabled_events": ["*"],
                    "created": int(time.time()),
                    "livemode": False,
                }
            )
            return Response(200, self.endpoints[-1])
        return None


def _compare(created: int, op: str, bound: int) -> bool:
    return {
        "gt": created > bound,
        "gte": created >= bound,
        "lt": created < bound,
        "lte": created <= bound,
    }[op]


def seed_demo(app: StripeApp) -> None:
    """billing-service's endpoint, and an hour of events of which three were not delivered."""
    now = int(time.time())
    app.control(
        "endpoints",
        Request("POST", "", {}, {}, b"", {"url": "https://billing.nexus.example/stripe/webhook"}),
    )
    for n, kind in enumerate(["payment_intent.succeeded"] * 8 + ["charge.failed"] * 3):
        app.control(
            "events",
            Request(
                "POST",
                "",
                {},
                {},
                b"",
                {
                    "type": kind,
                    "delivered": kind != "charge.failed",
                    "created": now - 60 * n,
                },
            ),
        )


def make_server(host: str = "127.0.0.1", port: int = 0) -> tuple[StandinServer, StripeApp]:
    app = StripeApp()
    return StandinServer((host, port), app), app


if __name__ == "__main__":
    server, app = make_server(port=8108)
    seed_demo(app)
    serve_until_interrupted(server, "Stripe")
