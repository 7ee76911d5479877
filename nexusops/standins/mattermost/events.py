"""Mattermost stand-in: the WebSocket events API at ``/api/v4/websocket``.

As Mattermost's server does: a connection authenticates with the ``Authorization`` header at
the upgrade (a bad token there is a 401) or with an ``authentication_challenge`` action
(``{"seq": 1, "action": "authentication_challenge", "data": {"token": …}}``) within
``auth_timeout`` seconds; a token it does not know, or a challenge without one, closes the
connection. Once authenticated the connection gets ``hello`` (``seq`` 0) and the challenge's
``{"status": "OK", "seq_reply": n}``; every event after it carries the next ``seq``. Actions
need a positive ``seq`` and a name (``api.web_socket_router.bad_seq.app_error``,
``…no_action…``), and anything but the challenge before authenticating is refused
(``…not_authenticated…``). An event for a channel reaches only the channel's members.

Controls: ``POST /_standin/websocket_drop`` closes every connection (a server restart).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..common import Request, Response
from ..websocket import ConnectionClosed, WebSocketConnection
from .words import error

SERVER_VERSION = "10.5.0.standin.0.false"
_connection_ids = itertools.count(1)


@dataclass
class Session:
    connection: WebSocketConnection
    connection_id: str
    user_id: str = ""
    seq: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: list[str] = field(default_factory=list)  # the events it got, by name

    def send_event(self, event: str, data: dict[str, Any], broadcast: dict[str, Any]) -> None:
        with self.lock:
            message = {"event": event, "data": data, "broadcast": broadcast, "seq": self.seq}
            self.connection.send_json(message)
            self.seq += 1
            self.sent.append(event)


def _broadcast(*, user_id: str = "", channel_id: str = "", team_id: str = "") -> dict:
    return {
        "omit_users": None,
        "user_id": user_id,
        "channel_id": channel_id,
        "team_id": team_id,
        "connection_id": "",
        "omit_connection_id": "",
    }


def _error_reply(seq: Any, error_id: str, status: int) -> dict[str, Any]:
    return {
        "status": "FAIL",
        "seq_reply": seq,
        "error": {"id": error_id, "message": error_id, "status_code": status},
    }


class WebSocketMixin:
    lock: threading.RLock
    tokens: dict[str, str]
    members: dict[str, list[str]]
    sockets: list[Session]
    auth_timeout: float

    def websocket_reset(self) -> None:
        for session in list(getattr(self, "sockets", [])):
            session.connection.close(1001, "going away")
        self.sockets = []
        self.closed_sockets: list[dict[str, Any]] = []

    def websocket_state(self) -> list[dict[str, Any]]:
        return [
            {"user_id": s.user_id, "connection_id": s.connection_id, "seq": s.seq, "sent": s.sent}
            for s in [*self.sockets]
        ]

    def websocket_publish(self, event: str, data: dict[str, Any], *, channel_id: str) -> None:
        """Send ``event`` to every authenticated connection of a member of the channel."""
        for session in list(self.sockets):
            if session.user_id and session.user_id in self.members.get(channel_id, []):
                try:
                    session.send_event(event, data, _broadcast(channel_id=channel_id))
                except ConnectionClosed:
                    self._ws_forget(session)

    def _ws_forget(self, session: Session) -> None:
        if session in self.sockets:
            self.sockets.remove(session)

    def upgrade(self, request: Request) -> Response | Callable[[Any], None] | None:
        if request.path != "/api/v4/websocket" or request.method != "GET":
            return None
        auth = request.header("Authorization")
        user_id = ""
        if auth:
            found = (
                self.tokens.get(auth.removeprefix("Bearer "))
                if auth.startswith("Bearer ")
                else None
            )
            if found is None:
                return error(
                    401, "api.context.session_expired.app_error", "Invalid or expired session"
                )
            user_id = found
        return lambda connection: self._ws_serve(connection, user_id)

    def control(self, action: str, request: Request) -> Response | None:
        if request.method == "POST" and action == "websocket_drop":
            dropped = len(self.sockets)
            self.websocket_reset()
            return Response(200, {"dropped": dropped})
        return self.hooks_control(action, request)  # type: ignore[attr-defined]

    # --- one connection, in its request's thread --------------------------------------------
    def _ws_authenticated(self, session: Session, user_id: str) -> None:
        with self.lock:
            session.user_id = user_id
            session.send_event(
                "hello",
                {"server_version": SERVER_VERSION, "connection_id": session.connection_id},
                _broadcast(user_id=user_id),
            )

    def _ws_serve(self, connection: WebSocketConnection, user_id: str) -> None:
        session = Session(connection, f"mmconn{next(_connection_ids):020d}")
        with self.lock:
            self.sockets.append(session)
        try:
            if user_id:
                self._ws_authenticated(session, user_id)
            else:
                connection.sock.settimeout(self.auth_timeout)
            while True:
                try:
                    text = connection.receive()
                except TimeoutError:  # never authenticated: Mattermost's auth ticker
                    connection.close(1008, "did not authenticate")
                    return
                if not self._ws_request(session, text):
                    return
        except (ConnectionClosed, OSError):
            return
        finally:
            with self.lock:
                self._ws_forget(session)

    def _ws_request(self, session: Session, text: str) -> bool:
        """Handle one request; False when the connection is closed for it."""
        try:
            request = json.loads(text)
        except ValueError:
            session.connection.close(1003, "not JSON")  # Mattermost's decoder gives up
            return False
        if not isinstance(request, dict):
            session.connection.close(1003, "not a request")
            return False
        action, seq = request.get("action"), request.get("seq")
        if not action:
            session.connection.send_json(
                _error_reply(seq, "api.web_socket_router.no_action.app_error", 400)
            )
            return True
        if not isinstance(seq, int) or isinstance(seq, bool) or seq <= 0:
            session.connection.send_json(
                _error_reply(seq, "api.web_socket_router.bad_seq.app_error", 400)
            )
            return True
        if action == "authentication_challenge":
            if session.user_id:
                return True  # authenticated already: ignored, as Mattermost does
            data = request.get("data")
            token = data.get("token") if isinstance(data, dict) else None
            with self.lock:
                user_id = self.tokens.get(token) if isinstance(token, str) else None
            if user_id is None:
                session.connection.close()  # Mattermost closes on a bad token, no reply
                return False
            session.connection.sock.settimeout(None)
            self._ws_authenticated(session, user_id)
            session.connection.send_json({"status": "OK", "seq_reply": seq})
            return True
        if not session.user_id:
            session.connection.send_json(
                _error_reply(seq, "api.web_socket_router.not_authenticated.app_error", 401)
            )
            return True
        session.connection.send_json(
            _error_reply(seq, "api.web_socket_router.bad_action.app_error", 500)
        )
        return True
