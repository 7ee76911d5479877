"""The shared machinery of the vendor stand-ins: a small threaded HTTP server.

A stand-in speaks the subset of a vendor's HTTP protocol that our adapters use, so the real
client library talks to it over real HTTP (DESIGN.md rule 6). Every stand-in also offers:

* ``GET /_standin/received`` - a JSON list of every request it received (method, path, query,
  headers, body, time, and the HTTP status it answered once it has), oldest first; control
  requests are not recorded;
* ``GET /_standin/state`` - the vendor objects it holds (channels, incidents, components);
* ``POST /_standin/reset`` - forget requests, faults and vendor state;
* ``POST /_standin/inject`` with ``{"status": 429|500, "times": N, "retry_after": s,
  "latency_ms": n}`` - the next N vendor requests wait ``latency_ms`` and, if ``status`` is
  given, answer with it (and ``Retry-After: s``) instead of doing their work.

Tests and the demo drive these through :class:`nexusops.standins.control.StandinControl`.

To add a vendor operation to a stand-in, add a method on its :class:`StandinApp` subclass::

    @route("POST", r"/api/conversations\\.rename")
    def conversations_rename(self, request: Request) -> Response:
        ...
        return Response(200, {"ok": True})

Routes are regular expressions matched against the whole path; named groups become keyword
arguments. The method runs under the app's lock, so it may change state freely.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CONTROL_PREFIX = "/_standin/"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any  # parsed JSON, a dict for forms, or None
    query_all: list[tuple[str, str]] = field(default_factory=list)  # repeated keys kept

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def params(self) -> dict[str, Any]:
        """Query string and body merged (Slack accepts arguments in either)."""
        merged: dict[str, Any] = dict(self.query)
        if isinstance(self.body, dict):
            merged.update(self.body)
        return merged


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int | None
    times: int
    retry_after: float | None
    latency_ms: int


def route(
    method: str, pattern: str
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a :class:`StandinApp` method as the handler of ``method`` + a full-path regex.

    ``method`` may be an alternation such as ``"GET|POST"``.
    """

    def decorate(func: Callable[..., Response]) -> Callable[..., Response]:
        func._standin_route = (  # type: ignore[attr-defined]
            re.compile(f"(?:{method.upper()})\\Z"),
            re.compile(pattern + r"\Z"),
        )
        return func

    return decorate


class StandinApp:
    """A vendor's state and routes. Subclass, decorate handlers with :func:`route`."""

    vendor = "standin"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.received: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self._routes = [
            (func._standin_route[0], func._standin_route[1], func)
            for name in dir(type(self))
            if (func := getattr(self, name, None)) is not None and hasattr(func, "_standin_route")
        ]
        self.reset_state()

    # --- what a subclass provides ---------------------------------------------------------
    def reset_state(self) -> None:
        """Forget vendor objects. Override to (re)create them."""

    def state(self) -> Any:
        """The vendor objects, for ``GET /_standin/state``."""
        return {}

    def authorize(self, request: Request) -> Response | None:
        """Return an error response when the request's credentials are missing or wrong."""
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        headers = {} if retry_after is None else {"Retry-After": _fmt_seconds(retry_after)}
        return Response(status, {"error": f"injected fault {status}"}, headers)

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": "not_found", "path": request.path})

    def control(self, action: str, request: Request) -> Response | None:
        """A vendor's own ``/_standin/<action>`` hook (runs under the lock), or None."""
        return None

    def upgrade(self, request: Request) -> Response | Callable[[Any], None] | None:
        """A WebSocket endpoint (runs under the lock): None when ``request`` is not one, a
        refusal, or the session to run on the upgraded connection (a
        :class:`~nexusops.standins.websocket.WebSocketConnection`), in the request's thread."""
        return None

    # --- machinery ------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": request.headers,
            "body": request.body,
            "at": time.time(),
        }
        with self.lock:
            self.received.append(entry)
        response = self._answer(request)
        entry["status"] = response.status  # what the vendor answered: 200, 429, an injected 503
        return response

    def _answer(self, request: Request) -> Response:
        with self.lock:
            fault = self._take_fault()
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.status is not None:
                return self.fault_response(fault.status, fault.retry_after)
        with self.lock:
            denied = self.authorize(request)
            if denied is not None:
                return denied
            for method, pattern, func in self._routes:
                if not method.match(request.method):
                    continue
                match = pattern.match(request.path)
                if match:
                    return func(request, **match.groupdict())
            return self.not_found(request)

    def _take_fault(self) -> Fault | None:
        while self.faults:
            fault = self.faults[0]
            if fault.times <= 0:
                self.faults.pop(0)
                continue
            fault.times -= 1
            return fault
        return None

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :]
        with self.lock:
            if request.method == "GET" and action == "received":
                return Response(200, self.received)
            if request.method == "GET" and action == "state":
                return Response(200, self.state())
            if request.method == "POST" and action == "reset":
                self.received = []
                self.faults = []
                self.reset_state()
                return Response(200, {"ok": True})
            if request.method == "POST" and action == "inject":
                spec = request.body if isinstance(request.body, dict) else {}
                status = spec.get("status")
                self.faults.append(
                    Fault(
                        status=int(status) if status is not None else None,
                        times=int(spec.get("times", 1)),
                        retry_after=spec.get("retry_after"),
                        latency_ms=int(spec.get("latency_ms", 0)),
                    )
                )
                return Response(200, {"ok": True})
            extra = self.control(action, request)
            if extra is not None:
                return extra
        return Response(404, {"error": "unknown stand-in control", "path": request.path})


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class StandinHandler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the received list is the log

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(pairs),
            query_all=pairs,
            headers=dict(self.headers.items()),
            raw=raw,
            body=_parse_body(raw, self.headers.get("Content-Type", "")),
        )
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self._upgrade(request)
            return
        try:
            response = self.server.app.handle(request)
        except Exception as exc:  # a stand-in bug must still answer, as a 500
            response = Response(500, {"error": f"stand-in error: {type(exc).__name__}: {exc}"})
        self._send(response)

    def _upgrade(self, request: Request) -> None:
        from .websocket import WebSocketConnection, accept_key, handshake_refusal

        app = self.server.app
        entry = {"method": request.method, "path": request.path, "query": request.query,
                 "headers": request.headers, "body": None, "at": time.time()}  # fmt: skip
        with app.lock:
            app.received.append(entry)
            outcome = app.upgrade(request)
        if outcome is None or isinstance(outcome, Response):
            response = outcome or app.not_found(request)
        elif problem := handshake_refusal(request.headers):
            response = Response(400, {"error": f"bad WebSocket handshake: {problem}"})
        else:
            entry["status"] = 101
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header(
                "Sec-WebSocket-Accept", accept_key(request.header("Sec-WebSocket-Key"))
            )
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            connection = WebSocketConnection(self.connection, self.rfile, self.wfile)
            try:
                outcome(connection)
            finally:
                connection.close()
            return
        entry["status"] = response.status
        self._send(response)

    def _send(self, response: Response) -> None:
        if response.body is None:
            payload = b""
        elif isinstance(response.body, bytes | str):
            payload = response.body.encode() if isinstance(response.body, str) else response.body
        else:
            payload = json.dumps(response.body).encode()
        try:
            self.send_response(response.status)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up (a timeout test); nothing to tell it

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


class StandinServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that serves one :class:`StandinApp`, optionally over TLS."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        app: StandinApp,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.ssl_context = ssl_context
        super().__init__(address, StandinHandler)

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # Handshake lazily in the handler thread, so a slow client cannot stall accept().
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # TLS clients that hang up mid-handshake are expected in tests

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"


def run_in_thread(server: StandinServer) -> threading.Thread:
    """Serve in a daemon thread; stop with ``server.shutdown(); server.server_close()``."""
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"standin-{server.app.vendor}",
        daemon=True,
    )
    thread.start()
    return thread


def serve_until_interrupted(server: StandinServer, label: str) -> None:
    """Serve in the foreground (the ``serve_forever`` entry points), printing the URL."""
    print(f"{label} stand-in listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
