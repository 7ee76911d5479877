"""Mattermost stand-in: posts, their edits and pins, a channel's posts newest first."""

from __future__ import annotations

import json
from typing import Any

from ..common import Request, Response, route
from .words import error


class PostsMixin:
    posts: dict[str, dict[str, Any]]
    # and bot_channel(channel_id), new_id(prefix), from the other parts

    @route("POST", r"/api/v4/posts")
    def post_create(self, request: Request) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        channel, problem = self.bot_channel(str(body.get("channel_id", "")))  # type: ignore[attr-defined]
        if problem is not None:
            return problem
        if not body.get("message") and not (body.get("props") or {}).get("attachments"):
            return error(400, "api.post.create_post.message.app_error", "Message is empty.")
        post_id = self.new_id("mmpost")  # type: ignore[attr-defined]
        post = {
            "id": post_id,
            "channel_id": channel["id"],
            "user_id": self.caller,  # type: ignore[attr-defined]
            "message": str(body.get("message", "")),
            "props": body.get("props") or {},
            "is_pinned": False,
            "create_at": len(self.posts) + 1,
        }
        self.posts[post_id] = post
        return Response(201, post)

    def _post(self, post_id: str) -> tuple[dict[str, Any] | None, Response | None]:
        post = self.posts.get(post_id)
        if post is None:
            return None, error(404, "app.post.get.app_error", "Unable to get the post.")
        _, problem = self.bot_channel(post["channel_id"])  # type: ignore[attr-defined]
        return (None, problem) if problem is not None else (post, None)

    @route("PUT", r"/api/v4/posts/(?P<post_id>[a-z0-9]+)/patch")
    def post_patch(self, request: Request, post_id: str) -> Response:
        post, problem = self._post(post_id)
        if problem is not None:
            return problem
        body = request.body if isinstance(request.body, dict) else {}
        for key in ("message", "props"):
            if key in body:
                post[key] = body[key]  # type: ignore[index]
        return Response(200, post)

    @route("POST", r"/api/v4/posts/(?P<post_id>[a-z0-9]+)/pin")
    def post_pin(self, request: Request, post_id: str) -> Response:
        post, problem = self._post(post_id)
        if problem is not None:
            return problem
        post["is_pinned"] = True  # type: ignore[index]
        post["update_at"] = post["create_at"] + 1  # type: ignore[index]
        # Mattermost patches the post and publishes the edit to the channel's members.
        self.websocket_publish(  # type: ignore[attr-defined]
            "post_edited",
            {"post": json.dumps(post)},
            channel_id=post["channel_id"],  # type: ignore[index]
        )
        return Response(200, {"status": "OK"})

    @route("GET", r"/api/v4/channels/(?P<channel_id>[a-z0-9]+)/pinned")
    def channel_pinned(self, request: Request, channel_id: str) -> Response:
        channel = self.channels.get(channel_id)  # type: ignore[attr-defined]
        if channel is None:
            return error(404, "app.channel.get.existing.app_error", "Unable to find channel.")
        if self.caller not in self.members[channel_id]:  # type: ignore[attr-defined]
            return error(
                403,
                "api.context.permissions.app_error",
                "You do not have the appropriate permissions.",
            )
        found = sorted(
            (p for p in self.posts.values() if p["channel_id"] == channel_id and p["is_pinned"]),
            key=lambda p: p["create_at"],
            reverse=True,
        )
        return Response(
            200, {"order": [p["id"] for p in found], "posts": {p["id"]: p for p in found}}
        )

    @route("GET", r"/api/v4/channels/(?P<channel_id>[a-z0-9]+)/posts")
    def channel_posts(self, request: Request, channel_id: str) -> Response:
        _, problem = self.bot_channel(channel_id)  # type: ignore[attr-defined]
        if problem is not None:
            return problem
        per_page = int(request.query.get("per_page", 60))
        found = sorted(
            (p for p in self.posts.values() if p["channel_id"] == channel_id),
            key=lambda p: p["create_at"],
            reverse=True,
        )[:per_page]
        return Response(
            200, {"order": [p["id"] for p in found], "posts": {p["id"]: p for p in found}}
        )
