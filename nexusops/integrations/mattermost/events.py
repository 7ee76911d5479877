"""Mattermost's WebSocket events API (``/api/v4/websocket``), over ``websocket-client``.

Mattermost's outgoing webhooks fire on posts only; a pin is an edit of the post
(``post_edited`` whose post has ``is_pinned: true``), seen only on the WebSocket. This module
is the only place that imports ``websocket``.

The protocol, as Mattermost documents it: connect, send
``{"seq": 1, "action": "authentication_challenge", "data": {"token": …}}``; the server answers
``{"status": "OK", "seq_reply": 1}`` and sends the ``hello`` event, then events
(``{"event", "data", "broadcast", "seq"}``) for what the token's user may see. A bad token
closes the connection without a word, which :meth:`MattermostEvents.connect` reports as
``VendorRejected``. The server pings every minute (``websocket-client`` answers); we ping too,
and a connection silent past ``idle_timeout`` is treated as dead (``VendorUnavailable``), so a
half-open TCP connection is noticed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import websocket
from django.conf import settings

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable

from .client import VENDOR

NOT_AUTHENTICATED = "websocket_not_authenticated"


def websocket_url(base_url: str) -> str:
    """``https://chat.example.com`` -> ``wss://chat.example.com/api/v4/websocket``."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return f"{base}/api/v4/websocket"


class MattermostEvents:
    """One authenticated WebSocket connection; :meth:`next_event` reads it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        ping_every: float = 30.0,
        idle_timeout: float = 90.0,
    ) -> None:
        if not base_url or not token:
            raise NotConfigured("MATTERMOST_URL and MATTERMOST_TOKEN must be set", vendor=VENDOR)
        self.url = websocket_url(base_url)
        self.token = token
        self.timeout = timeout
        self.ping_every = ping_every
        self.idle_timeout = idle_timeout
        self.connection_id = ""
        self._ws: websocket.WebSocket | None = None
        self._seq = 0
        self._heard = self._pinged = 0.0

    @classmethod
    def default(cls, **options: Any) -> MattermostEvents:
        return cls(settings.MATTERMOST_URL, settings.MATTERMOST_TOKEN, **options)

    # --- connecting --------------------------------------------------------------------------
    def connect(self) -> None:
        """Open and authenticate; returns once ``hello`` came (events flow from then on)."""
        try:
            self._ws = websocket.create_connection(self.url, timeout=self.timeout)
        except websocket.WebSocketBadStatusException as exc:
            status = int(getattr(exc, "status_code", 0) or 0)
            error = VendorRejected if 400 <= status < 500 else VendorUnavailable
            raise error(
                f"WebSocket upgrade answered {status}", vendor=VENDOR, status=status
            ) from exc
        except (websocket.WebSocketException, OSError) as exc:
            raise VendorUnavailable(
                f"WebSocket connect failed: {type(exc).__name__}", vendor=VENDOR
            ) from exc
        self._seq = 0
        challenge = self._send("authentication_challenge", {"token": self.token})
        deadline = time.monotonic() + self.timeout
        authenticated = hello = False
        while not (authenticated and hello):
            if time.monotonic() > deadline:
                self.close()
                raise VendorUnavailable("no hello from Mattermost in time", vendor=VENDOR)
            try:
                message = self._receive(max(0.1, deadline - time.monotonic()))
            except VendorUnavailable:
                self.close()
                # Mattermost closes the connection, without a reply, on a token it refuses.
                raise VendorRejected(
                    "Mattermost refused the token (the WebSocket was closed)",
                    vendor=VENDOR,
                    code=NOT_AUTHENTICATED,
                ) from None
            if message is None:
                continue
            if message.get("seq_reply") == challenge:
                if message.get("status") != "OK":
                    self.close()
                    raise VendorRejected(
                        f"authentication_challenge refused: {message.get('error')}",
                        vendor=VENDOR,
                        code=NOT_AUTHENTICATED,
                    )
                authenticated = True
            elif message.get("event") == "hello":
                hello = True  # sent only to an authenticated connection
                data = message.get("data") or {}
                self.connection_id = str(data.get("connection_id") or "")
        self._heard = self._pinged = time.monotonic()

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close(timeout=1)
            except (websocket.WebSocketException, OSError):
                pass
            self._ws = None

    # --- reading -----------------------------------------------------------------------------
    def next_event(self, wait: float = 1.0) -> dict[str, Any] | None:
        """The next event, or None when ``wait`` seconds pass without one. Raises
        ``VendorUnavailable`` when the connection is lost or has gone silent."""
        now = time.monotonic()
        if now - self._heard > self.idle_timeout:
            self.close()
            raise VendorUnavailable(
                f"Mattermost has said nothing for {self.idle_timeout:.0f} s", vendor=VENDOR
            )
        if now - self._pinged > self.ping_every:
            self._pinged = now
            try:
                assert self._ws is not None
                self._ws.ping()
            except (websocket.WebSocketException, OSError) as exc:
                self.close()
                raise VendorUnavailable(
                    f"ping failed: {type(exc).__name__}", vendor=VENDOR
                ) from exc
        message = self._receive(wait)
        if message is None or "event" not in message:
            return None  # a timeout, a control frame, or a reply to an action
        return message

    def _receive(self, wait: float) -> dict[str, Any] | None:
        if self._ws is None:
            raise VendorUnavailable("not connected", vendor=VENDOR)
        self._ws.settimeout(wait)
        try:
            opcode, data = self._ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketException, OSError) as exc:
            self.close()
            raise VendorUnavailable(
                f"the WebSocket was lost: {type(exc).__name__}", vendor=VENDOR
            ) from exc
        self._heard = time.monotonic()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.close()
            raise VendorUnavailable("Mattermost closed the WebSocket", vendor=VENDOR)
        if opcode != websocket.ABNF.OPCODE_TEXT:
            return None
        try:
            message = json.loads(data)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def _send(self, action: str, data: dict[str, Any]) -> int:
        self._seq += 1
        assert self._ws is not None
        try:
            self._ws.send(json.dumps({"seq": self._seq, "action": action, "data": data}))
        except (websocket.WebSocketException, OSError) as exc:
            self.close()
            raise VendorUnavailable(f"send failed: {type(exc).__name__}", vendor=VENDOR) from exc
        return self._seq


def post_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """The post a ``posted``/``post_edited`` event carries (Mattermost sends it as a JSON
    string inside ``data``), or None."""
    raw = (event.get("data") or {}).get("post")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None
