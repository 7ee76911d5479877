"""The server side of a WebSocket (RFC 6455) for the stand-ins that speak one (Mattermost).

The stand-ins are stdlib HTTP servers; a vendor's WebSocket endpoint is an ``Upgrade`` on the
same port, as the vendor's is. :func:`handshake_refusal` checks the client's opening handshake
(a ``GET`` with ``Upgrade: websocket``, ``Sec-WebSocket-Version: 13`` and a key), and
:class:`WebSocketConnection` reads and writes frames on the upgraded socket: text frames
(continuations joined), ping answered with pong, close answered with close. A client frame that
is not masked is a protocol error (1002), as the RFC says, so a sloppy client fails here as it
would against the vendor.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from typing import Any, BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 64 * 1024  # Mattermost's SocketMaxMessageSizeKb
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


class ConnectionClosed(Exception):
    """The peer closed the connection, or broke the protocol and was closed."""


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def handshake_refusal(headers: dict[str, str]) -> str:
    """Why an opening handshake is not a valid one ("" when it is)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("upgrade", "").lower() != "websocket":
        return "not a WebSocket upgrade"
    if "upgrade" not in lowered.get("connection", "").lower():
        return "Connection does not say Upgrade"
    if lowered.get("sec-websocket-version") != "13":
        return "Sec-WebSocket-Version must be 13"
    key = lowered.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return "Sec-WebSocket-Key is not 16 bytes in base64"
    except ValueError:
        return "Sec-WebSocket-Key is not base64"
    return ""


class WebSocketConnection:
    """One upgraded connection. ``receive`` runs in the connection's own thread; ``send_*``
    may be called from any thread (a pin made through the HTTP API sends an event here)."""

    def __init__(self, sock: socket.socket, rfile: BinaryIO, wfile: BinaryIO) -> None:
        self.sock = sock
        self.rfile = rfile
        self.wfile = wfile
        self._send_lock = threading.Lock()
        self.closed = False

    # --- sending -----------------------------------------------------------------------------
    def _frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([size])
        elif size < 1 << 16:
            header += bytes([126]) + struct.pack("!H", size)
        else:
            header += bytes([127]) + struct.pack("!Q", size)
        with self._send_lock:
            if self.closed and opcode != CLOSE:
                raise ConnectionClosed("the connection is closed")
            try:
                self.wfile.write(header + payload)
                self.wfile.flush()
            except OSError as exc:
                self.closed = True
                raise ConnectionClosed(str(exc)) from None

    def send_json(self, document: Any) -> None:
        self._frame(TEXT, json.dumps(document).encode())

    def ping(self) -> None:
        self._frame(PING, b"")

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and shut the socket (the reader's ``receive`` then ends)."""
        if self.closed:
            return
        try:
            self._frame(CLOSE, struct.pack("!H", code) + reason.encode()[:120])
        except ConnectionClosed:
            pass
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- receiving ---------------------------------------------------------------------------
    def _read(self, size: int) -> bytes:
        data = self.rfile.read(size) if size else b""
        if len(data) < size:
            self.closed = True
            raise ConnectionClosed("the peer went away")
        return data

    def receive(self) -> str:
        """The next text message. Raises :class:`ConnectionClosed` when the connection ends
        (and ``socket.timeout`` when the socket's timeout passes first)."""
        parts: list[bytes] = []
        while True:
            first, second = self._read(2)
            opcode, final = first & 0x0F, bool(first & 0x80)
            if not second & 0x80:
                self.close(1002, "client frames must be masked")
                raise ConnectionClosed("an unmasked client frame")
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            if size > MAX_MESSAGE or sum(map(len, parts)) + size > MAX_MESSAGE:
                self.close(1009, "message too big")
                raise ConnectionClosed("a message over the size limit")
            mask = self._read(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(size)))
            if opcode == PING:
                self._frame(PONG, payload)
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                self.close()
                raise ConnectionClosed("the peer closed the connection")
            if opcode not in (TEXT, BINARY, CONTINUATION):
                self.close(1002, "unknown opcode")
                raise ConnectionClosed(f"unknown opcode {opcode}")
            parts.append(payload)
            if final:
                try:
                    return b"".join(parts).decode("utf-8")
                except UnicodeDecodeError:
                    self.close(1007, "text is not UTF-8")
                    raise ConnectionClosed("a text frame that is not UTF-8") from None
