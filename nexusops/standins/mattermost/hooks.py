"""Mattermost stand-in: a slash command's ``response_url`` (``/hooks/commands/{id}``).

Mattermost makes one command webhook per slash command it sends out and gives its URL as
``response_url``. The hook's id is its only credential: an unknown id, or one older than 30
minutes, is a 404 (``app.command_webhook.get.missing``); each hook takes 5 responses at most
(``app.command_webhook.try_use.invalid``); the body is a JSON command response with ``text``
and ``response_type`` (``ephemeral``, the default, or ``in_channel``, which posts in the
command's channel). Every response taken is in ``command_responses`` (``/_standin/state``).

Controls: ``POST /_standin/command_hook`` with ``{"user_id", "channel_id"}`` makes the hook
Mattermost would make when the command is run, and answers its ``response_url``.
"""

from __future__ import annotations

import time
from typing import Any

from ..common import Request, Response, route
from .words import error

LIFETIME_SECONDS = 30 * 60
MAX_USES = 5


class CommandHooksMixin:
    command_hooks: dict[str, dict[str, Any]]
    command_responses: list[dict[str, Any]]
    # and posts, new_id(prefix), from the other parts

    def hooks_control(self, action: str, request: Request) -> Response | None:
        if request.method == "POST" and action == "command_hook":
            spec = request.body if isinstance(request.body, dict) else {}
            hook_id = self.new_id("mmhook")  # type: ignore[attr-defined]
            self.command_hooks[hook_id] = {
                "id": hook_id,
                "user_id": str(spec.get("user_id", "")),
                "channel_id": str(spec.get("channel_id", "")),
                "create_at": time.time() - float(spec.get("age_seconds", 0)),
                "use_count": 0,
            }
            host = request.header("Host", "127.0.0.1")
            return Response(200, {"response_url": f"http://{host}/hooks/commands/{hook_id}"})
        return None

    @route("POST", r"/hooks/commands/(?P<hook_id>[A-Za-z0-9]+)")
    def command_webhook(self, request: Request, hook_id: str) -> Response:
        hook = self.command_hooks.get(hook_id)
        if hook is None or time.time() - hook["create_at"] > LIFETIME_SECONDS:
            return error(404, "app.command_webhook.get.missing", "Unable to find the webhook.")
        body = request.body
        if "json" not in request.header("Content-Type") or not isinstance(body, dict):
            return error(
                400, "app.command_webhook.handle_command_webhook.parse", "Unable to parse."
            )
        kind = body.get("response_type") or "ephemeral"
        if kind not in ("ephemeral", "in_channel") or not (
            body.get("text") or (body.get("props") or {}).get("attachments")
        ):
            return error(
                400, "app.command_webhook.handle_command_webhook.parse", "Unable to parse."
            )
        if hook["use_count"] >= MAX_USES:
            return error(
                400, "app.command_webhook.try_use.invalid", "The webhook has been used up."
            )
        hook["use_count"] += 1
        taken = {
            "hook_id": hook_id,
            "user_id": hook["user_id"],
            "channel_id": hook["channel_id"],
            "response_type": kind,
            "text": str(body.get("text") or ""),
        }
        self.command_responses.append(taken)
        return Response(200, "ok")
