"""What the Mattermost stand-in's parts share: ids and the error shape."""

from __future__ import annotations

from typing import Any

from ..common import Response

TOKEN = "mm-nexusops-demo-token"
TEAM_ID = "mmteamnexus000000000000000"
TEAM_NAME = "nexus"
BOT_USER_ID = "mmbotnexusops0000000000000"


def error(status: int, error_id: str, message: str) -> Response:
    body: dict[str, Any] = {
        "id": error_id,
        "message": message,
        "detailed_error": "",
        "request_id": "standin",
        "status_code": status,
    }
    return Response(status, body)


def user_token(username: str) -> str:
    """The personal access token of a stand-in person (tests pin posts as people)."""
    return f"mm-token-{username}"
