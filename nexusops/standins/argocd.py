"""A small stand-in for the ArgoCD API server (the REST gateway of ``argocd-server``).

It serves what ``nexusops.integrations.argocd`` uses: ``GET /api/v1/applications[/{name}]``,
``PATCH /api/v1/applications/{name}`` with ``{"name", "patchType": "merge", "patch": "<json
string>"}`` and ``POST /api/v1/applications/{name}/sync``. A sync starts an operation
(``status.operationState.phase`` ``Running``) that completes ``operation_seconds`` later
(``Succeeded``); a second sync meanwhile is answered as ArgoCD does, HTTP 400 with
``another operation is already in progress``. Completion is computed when the app is next read,
so no timer threads are involved.

Test hooks: ``GET /_standin/state`` (apps and requests received), ``GET /_standin/received``
(a list of the requests received, oldest first, like every stand-in), ``POST /_standin/reset``, and
``POST /_standin/next-operation`` ``{"phase": "Failed", "message": "..."}`` to make the next sync
end another way. Run alone: ``python -m nexusops.standins.argocd --port 8002``.

To serve one more endpoint: add a branch in ``_Handler._route`` working on ``Argo.apps``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from nexusops.standins.kubernetes import merge_patch

IN_PROGRESS = "another operation is already in progress"
_APP = re.compile(r"^/api/v1/applications/(?P<name>[^/]+)(?P<sync>/sync)?$")


class ArgoError(Exception):
    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code  # code: the gRPC code


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(revision: str) -> str:
    if re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision
    return hashlib.sha1(revision.encode()).hexdigest()  # noqa: S324 - a fake commit id


class Argo:
    def __init__(self, operation_seconds: float = 0.3) -> None:
        self.lock = threading.RLock()
        self.operation_seconds = operation_seconds
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[dict] = []
            self.next_outcome = {"phase": "Succeeded", "message": "successfully synced"}
            self._finish_at: dict[str, float] = {}
            revision = "3f2c9e1d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
            self.apps = {
                name: {
                    "metadata": {"name": name, "namespace": "argocd"},
                    "spec": {
                        "project": "default",
                        "source": {
                            "repoURL": "https://git.nexus.internal/platform/deploy.git",
                            "path": path,
                            "targetRevision": revision,
                        },
                        "destination": {
                            "server": "https://kubernetes.default.svc",
                            "namespace": namespace,
                        },
                    },
                    "status": {
                        "sync": {"status": "Synced", "revision": revision},
                        "health": {"status": "Healthy"},
                        "history": [],
                    },
                }
                for name, path, namespace in (
                    ("nexus-platform", "overlays/production", "nexus-production"),
                    ("nexus-platform-staging", "overlays/staging", "nexus-staging"),
                )
            }

    def app(self, name: str) -> dict:
        if name not in self.apps:
            raise ArgoError(404, f'applications.argoproj.io "{name}" not found', 5)
        app = self.apps[name]
        state = app["status"].get("operationState")
        if state and state["phase"] == "Running" and time.monotonic() >= self._finish_at[name]:
            del self._finish_at[name]
            outcome = self.next_outcome
            self.next_outcome = {"phase": "Succeeded", "message": "successfully synced"}
            revision = state["operation"]["sync"]["revision"]
            state.update(
                phase=outcome["phase"],
                message=outcome["message"],
                finishedAt=_now(),
                syncResult={"revision": revision},
            )
            app.pop("operation", None)
            if outcome["phase"] == "Succeeded":
                app["status"]["sync"] = {"status": "Synced", "revision": revision}
                history = app["status"]["history"]
                history.append({"id": len(history), "revision": revision, "deployedAt": _now()})
        return app

    def patch(self, name: str, body: dict) -> dict:
        app = self.app(name)
        if body.get("patchType", "merge") != "merge" or not isinstance(body.get("patch"), str):
            raise ArgoError(400, "patch must be a JSON string with patchType merge", 3)
        try:
            patched = merge_patch(app, json.loads(body["patch"]))
        except ValueError as exc:
            raise ArgoError(400, f"invalid patch: {exc}", 3) from exc
        if patched["metadata"]["name"] != name:
            raise ArgoError(400, "metadata.name is immutable", 3)
        if patched["spec"] != app["spec"]:
            patched["status"]["sync"]["status"] = "OutOfSync"
        self.apps[name] = patched
        return patched

    def sync(self, name: str, body: dict) -> dict:
        app = self.app(name)
        state = app["status"].get("operationState")
        if app.get("operation") or (state and state["phase"] == "Running"):
            raise ArgoError(400, IN_PROGRESS, 9)
        revision = _sha(body.get("revision") or app["spec"]["source"]["targetRevision"])
        operation = {"sync": {"revision": revision}, "initiatedBy": {"username": "admin"}}
        app["operation"] = operation
        app["status"]["operationState"] = {
            "operation": copy.deepcopy(operation),
            "phase": "Running",
            "message": "one or more tasks are running",
            "startedAt": _now(),
        }
        self._finish_at[name] = time.monotonic() + self.operation_seconds
        return app


def _as_received(entry: dict) -> dict:
    try:
        body = json.loads(entry["body"]) if entry["body"] else None
    except ValueError:
        body = entry["body"]
    return {**entry, "body": body}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandinServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        argo = self.server.argo
        with argo.lock:
            if path.startswith("/_standin/"):
                if path == "/_standin/received" and self.command == "GET":
                    # A list, as every stand-in answers it (the Stand-ins page reads it).
                    return self._send(200, [_as_received(r) for r in argo.requests])
                if path == "/_standin/reset" and self.command == "POST":
                    argo.reset()
                elif path == "/_standin/next-operation" and self.command == "POST":
                    argo.next_outcome = json.loads(raw)
                for name in argo.apps:
                    argo.app(name)
                return self._send(200, {"apps": argo.apps, "requests": argo.requests})
            token = self.server.token
            authorized = not token or self.headers.get("Authorization") == f"Bearer {token}"
            argo.requests.append(
                {
                    "method": self.command,
                    "path": path,
                    "authorized": authorized,
                    "body": raw.decode(errors="replace"),
                }
            )
            try:
                if not authorized:
                    raise ArgoError(401, "invalid session: token is invalid", 16)
                result = self._route(argo, path, json.loads(raw) if raw else {})
            except ArgoError as exc:
                return self._send(
                    exc.status, {"error": exc.message, "code": exc.code, "message": exc.message}
                )
            except ValueError:
                return self._send(
                    400, {"error": "invalid JSON", "code": 3, "message": "invalid JSON"}
                )
        return self._send(200, result)

    def _route(self, argo: Argo, path: str, body: dict) -> dict:
        if path == "/api/v1/applications" and self.command == "GET":
            return {"items": [argo.app(name) for name in argo.apps]}
        m = _APP.match(path)
        if m and not m["sync"] and self.command == "GET":
            return argo.app(m["name"])
        if m and not m["sync"] and self.command == "PATCH":
            return argo.patch(m["name"], body)
        if m and m["sync"] and self.command == "POST":
            return argo.sync(m["name"], body)
        raise ArgoError(404, f"{self.command} {path} is not served", 12)

    do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _handle


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], token: str | None, operation_seconds: float
    ) -> None:
        super().__init__(address, _Handler)
        self.argo = Argo(operation_seconds)
        self.token = token


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    operation_seconds: float = 0.3,
) -> tuple[StandinServer, str]:
    """An ArgoCD stand-in bound to ``host:port`` (0: a free port), not yet serving."""
    server = StandinServer((host, port), token, operation_seconds)
    return server, f"http://{host}:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    server, url = make_server(args.host, args.port, token=args.token, operation_seconds=2.0)
    print(f"ArgoCD stand-in on {url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
