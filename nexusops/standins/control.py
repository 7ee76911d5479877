"""A small client for a stand-in's ``/_standin/`` control endpoints (:mod:`.common` lists
them): what it received, its vendor state, reset, vendor hooks and injected faults. Used by
tests, benchmarks and the demo; the stand-ins themselves never import it.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from typing import Any

from .common import CONTROL_PREFIX


class StandinControl:
    """A small client for the ``/_standin/`` endpoints, for tests and the demo."""

    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ssl_context = ssl_context
        self.timeout = timeout  # longer where a control call waits on the console (Teams)

    def _call(self, method: str, action: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}{CONTROL_PREFIX}{action}",
            data=data if method == "POST" else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        if method == "POST" and data is None:
            request.data = b"{}"
        with urllib.request.urlopen(
            request, timeout=self.timeout, context=self.ssl_context
        ) as response:
            return json.loads(response.read() or b"null")

    def received(self, path: str | None = None) -> list[dict[str, Any]]:
        """Requests received, oldest first; only those to ``path`` when given."""
        entries = self._call("GET", "received")
        return [e for e in entries if path is None or e["path"] == path]

    def state(self) -> Any:
        return self._call("GET", "state")

    def command(self, action: str, body: dict | None = None) -> Any:
        """A vendor-specific hook, e.g. ``command("users", {...})`` on the Slack stand-in."""
        return self._call("POST", action, body)

    def reset(self) -> None:
        self._call("POST", "reset")

    def inject(
        self,
        status: int | None = None,
        *,
        times: int = 1,
        retry_after: float | None = None,
        latency_ms: int = 0,
    ) -> None:
        spec: dict[str, Any] = {"times": times, "latency_ms": latency_ms}
        if status is not None:
            spec["status"] = status
        if retry_after is not None:
            spec["retry_after"] = retry_after
        self._call("POST", "inject", spec)
