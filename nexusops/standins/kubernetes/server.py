"""The HTTP side: routes requests to the cluster, answers ``Status`` errors, test hooks."""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .cluster import Cluster
from .protocol import PATH, ROUTES, ApiError, body_for_log


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandinServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        cluster = self.server.cluster
        if url.path.startswith("/_standin/"):
            if url.path == "/_standin/reset" and self.command == "POST":
                cluster.reset()
            with cluster.lock:
                if url.path == "/_standin/received":
                    # A list, as every stand-in answers it (the Stand-ins page reads it).
                    return self._send(200, cluster.requests)
                return self._send(200, cluster.state())
        with cluster.lock:
            token = self.server.token
            authorized = not token or self.headers.get("Authorization") == f"Bearer {token}"
            cluster.requests.append(
                {
                    "method": self.command,
                    "path": url.path,
                    "query": query,
                    "content_type": content_type,
                    "authorized": authorized,
                    "body": body_for_log(raw),
                }
            )
            try:
                if not authorized:
                    raise ApiError(401, "Unauthorized", "Unauthorized")
                body = json.loads(raw) if raw else None
                result = self._route(cluster, url.path, query, content_type, body)
            except ApiError as exc:
                return self._send(
                    exc.code,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Failure",
                        "message": exc.message,
                        "reason": exc.reason,
                        "code": exc.code,
                    },
                )
            except json.JSONDecodeError:
                return self._send(
                    400,
                    {
                        "kind": "Status",
                        "status": "Failure",
                        "code": 400,
                        "reason": "BadRequest",
                        "message": "invalid JSON body",
                    },
                )
        if isinstance(result, str):
            return self._send(200, result, "text/plain")
        return self._send(200, result)

    def _route(self, cluster: Cluster, path: str, query: dict, content_type: str, body: Any):
        m = PATH.match(path)
        if not m or m["plural"] not in ROUTES or ROUTES[m["plural"]][0] != m["prefix"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns, plural, name, sub, verb = m["ns"], m["plural"], m["name"], m["sub"], self.command
        if sub == "scale" and plural == "deployments":
            return cluster.scale(ns, name, verb, content_type, body)
        if sub == "log" and plural == "pods" and verb == "GET":
            return cluster.log(ns, name, query)
        if sub is None and name is None and verb == "GET":
            return cluster.list(plural, ns, query)
        if sub is None and name and verb == "GET":
            return cluster.get(plural, ns, name)
        if sub is None and name and verb == "PATCH":
            return cluster.patch(plural, ns, name, content_type, body)
        if sub is None and name and verb == "DELETE" and plural == "pods":
            return cluster.delete_pod(ns, name)
        raise ApiError(405, "MethodNotAllowed", f"{verb} is not supported on {path}")

    do_GET = do_PATCH = do_PUT = do_DELETE = do_POST = _handle


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], token: str | None = None) -> None:
        super().__init__(address, _Handler)
        self.cluster = Cluster()
        self.token = token


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, token: str | None = None
) -> tuple[StandinServer, str]:
    """A stand-in API server bound to ``host:port`` (0: a free port), not yet serving.

    Run ``server.serve_forever()`` (in a thread) and ``server.shutdown()`` to stop. With
    ``token`` set, requests must carry ``Authorization: Bearer <token>``.
    """
    server = StandinServer((host, port), token=token)
    return server, f"http://{host}:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description="A stand-in for the Kubernetes API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    server, url = make_server(args.host, args.port, token=args.token)
    print(f"Kubernetes stand-in on {url}", flush=True)
    server.serve_forever()
