"""Mattermost stand-in: channels, their members, teams and users."""

from __future__ import annotations

import re
from typing import Any

from ..common import Request, Response, route
from .words import error

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")


class ChannelsMixin:
    teams: dict[str, dict[str, Any]]
    team_members: dict[str, set[str]]
    users: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    members: dict[str, list[str]]
    caller: str  # the user whose token the request carries (the bot, or a person)
    # and new_id(prefix), from MattermostStandin

    def bot_channel(self, channel_id: str) -> tuple[dict[str, Any] | None, Response | None]:
        """The channel the caller (the bot, mostly) writes to, or Mattermost's answer: 404
        unknown, 403 not a member."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return None, error(404, "app.channel.get.existing.app_error", "Unable to find channel.")
        if self.caller not in self.members[channel_id]:
            return None, error(
                403,
                "api.context.permissions.app_error",
                "You do not have the appropriate permissions.",
            )
        if channel["delete_at"]:
            return None, error(
                400,
                "api.channel.update_channel.deleted.app_error",
                "The channel has been archived or deleted.",
            )
        return channel, None

    @route("POST", r"/api/v4/channels")
    def channel_create(self, request: Request) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        team_id, name = str(body.get("team_id", "")), str(body.get("name", ""))
        if team_id not in self.teams:
            return error(404, "app.team.get.find.app_error", "Unable to find the team.")
        if self.caller not in self.team_members[team_id]:
            return error(
                403,
                "api.context.permissions.app_error",
                "You do not have the appropriate permissions.",
            )
        if (
            not _NAME.match(name)
            or not body.get("display_name")
            or body.get("type") not in ("O", "P")
        ):
            return error(400, "model.channel.is_valid.2_or_more.app_error", "Invalid channel.")
        if any(c["name"] == name and c["team_id"] == team_id for c in self.channels.values()):
            return error(
                400,
                "store.sql_channel.save_channel.exists.app_error",
                "A channel with that name already exists on the same team.",
            )
        channel_id = self.new_id("mmchan")  # type: ignore[attr-defined]
        channel = {
            "id": channel_id,
            "team_id": team_id,
            "name": name,
            "type": body["type"],
            "display_name": body["display_name"],
            "header": "",
            "purpose": "",
            "delete_at": 0,
            "creator_id": self.caller,
        }
        self.channels[channel_id] = channel
        self.members[channel_id] = [self.caller]
        return Response(201, channel)

    @route("GET", r"/api/v4/teams/(?P<team_id>[a-z0-9]+)/channels/name/(?P<name>[a-z0-9_-]+)")
    def channel_by_name(self, request: Request, team_id: str, name: str) -> Response:
        deleted = request.query.get("include_deleted") == "true"
        for channel in self.channels.values():
            if channel["team_id"] == team_id and channel["name"] == name:
                if channel["delete_at"] and not deleted:
                    break
                return Response(200, channel)
        return error(404, "app.channel.get_by_name.missing.app_error", "Channel does not exist.")

    @route("GET", r"/api/v4/teams/(?P<team_id>[a-z0-9]+)")
    def team_get(self, request: Request, team_id: str) -> Response:
        team = self.teams.get(team_id)
        return (
            Response(200, team)
            if team
            else error(404, "app.team.get.find.app_error", "Unable to find the team.")
        )

    @route("PUT", r"/api/v4/channels/(?P<channel_id>[a-z0-9]+)/patch")
    def channel_patch(self, request: Request, channel_id: str) -> Response:
        channel, problem = self.bot_channel(channel_id)
        if problem is not None:
            return problem
        body = request.body if isinstance(request.body, dict) else {}
        for key in ("header", "purpose", "display_name"):
            if key in body:
                limit = 1024 if key == "header" else 250
                if len(str(body[key])) > limit:
                    return error(400, f"model.channel.is_valid.{key}.app_error", f"Invalid {key}.")
                channel[key] = str(body[key])  # type: ignore[index]
        return Response(200, channel)

    @route("GET", r"/api/v4/channels/(?P<channel_id>[a-z0-9]+)/members")
    def channel_members(self, request: Request, channel_id: str) -> Response:
        if channel_id not in self.channels:
            return error(404, "app.channel.get.existing.app_error", "Unable to find channel.")
        page, per_page = int(request.query.get("page", 0)), int(request.query.get("per_page", 60))
        ids = self.members[channel_id][page * per_page : (page + 1) * per_page]
        return Response(200, [{"channel_id": channel_id, "user_id": u} for u in ids])

    @route("POST", r"/api/v4/channels/(?P<channel_id>[a-z0-9]+)/members")
    def channel_member_add(self, request: Request, channel_id: str) -> Response:
        channel, problem = self.bot_channel(channel_id)
        if problem is not None:
            return problem
        body = request.body if isinstance(request.body, dict) else {}
        user_id = str(body.get("user_id", ""))
        if user_id not in self.users:
            return error(404, "app.user.missing_account.const", "Unable to find the user.")
        if user_id not in self.team_members[channel["team_id"]]:  # type: ignore[index]
            return error(
                403,
                "api.channel.add_user.to.channel.failed.deleted.app_error",
                "The user is not a member of the team.",
            )
        if user_id not in self.members[channel_id]:
            self.members[channel_id].append(user_id)
        return Response(201, {"channel_id": channel_id, "user_id": user_id})

    @route("DELETE", r"/api/v4/channels/(?P<channel_id>[a-z0-9]+)")
    def channel_archive(self, request: Request, channel_id: str) -> Response:
        channel, problem = self.bot_channel(channel_id)
        if problem is not None:
            return problem
        channel["delete_at"] = 1700000000000  # type: ignore[index]
        return Response(200, {"status": "OK"})

    @route("GET", r"/api/v4/users/me")
    def user_me(self, request: Request) -> Response:
        return Response(200, self.users[self.caller])

    @route("GET", r"/api/v4/users/email/(?P<email>[^/]+)")
    def user_by_email(self, request: Request, email: str) -> Response:
        for user in self.users.values():
            if user["email"] and user["email"].lower() == email.lower():
                return Response(200, user)
        return error(404, "app.user.missing_account.const", "Unable to find the user.")

    @route("GET", r"/api/v4/users/(?P<user_id>[a-z0-9]{26})")
    def user_get(self, request: Request, user_id: str) -> Response:
        user = self.users.get(user_id)
        if user is None:
            return error(404, "app.user.missing_account.const", "Unable to find the user.")
        return Response(200, user)
