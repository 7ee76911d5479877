"""deploy/teams/manifest.json: the Teams app that carries the bot and declares its commands.

Checked against the constraints of Microsoft's app manifest schema v1.19 for the fields it
uses (https://developer.microsoft.com/json-schemas/teams/v1.19/MicrosoftTeams.schema.json,
documented at learn.microsoft.com/microsoftteams/platform/resources/schema/manifest-schema):
required fields, lengths, GUIDs, one command list per scope of at most 10 commands, titles of
at most 32 characters and descriptions of at most 128, 192x192 and 32x32 PNG icons. And the
commands are exactly the ones the bot answers (Slack's ``/incident`` subcommands)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from chat.inbound.slack_commands import COMMANDS

HERE = Path(__file__).resolve().parents[2] / "deploy" / "teams"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
SCOPES = {"team", "personal", "groupChat"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((HERE / "manifest.json").read_text())


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_required_fields_are_there_and_within_their_limits(manifest):
    version = manifest["manifestVersion"]
    assert manifest["$schema"].endswith(f"/teams/v{version}/MicrosoftTeams.schema.json")
    assert version == "1.19"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert GUID.match(manifest["id"])
    developer = manifest["developer"]
    assert len(developer["name"]) <= 32
    for url in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[url].startswith("https://")
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert HEX_COLOR.match(manifest["accentColor"])
    assert _png_size(HERE / manifest["icons"]["color"]) == (192, 192)
    assert _png_size(HERE / manifest["icons"]["outline"]) == (32, 32)


def test_one_bot_in_teams_and_personal_chats_listing_every_command(manifest):
    [bot] = manifest["bots"]
    assert GUID.match(bot["botId"])
    assert set(bot["scopes"]) == {"team", "personal"} and set(bot["scopes"]) <= SCOPES
    lists = bot["commandLists"]
    assert len(lists) <= 3
    # One list per scope, as the schema asks, each the same commands.
    assert sorted(s for entry in lists for s in entry["scopes"]) == sorted(bot["scopes"])
    for entry in lists:
        assert set(entry) == {"scopes", "commands"} and len(entry["scopes"]) == 1
        commands = entry["commands"]
        assert len(commands) <= 10
        assert [c["title"] for c in commands] == list(COMMANDS)
        for command in commands:
            assert set(command) == {"title", "description"}
            assert len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128
            assert f"Usage: {command['title']}" in command["description"]


def test_the_package_command_sets_the_bot_id_and_zips_the_icons(settings, tmp_path, manifest):
    import zipfile

    from django.core.management import CommandError, call_command

    settings.TEAMS_APP_ID = "0f8a3c1d-5b2e-4d7f-9a6c-1e2d3c4b5a69"
    out = tmp_path / "nexusops-teams.zip"
    call_command("teams_app_package", str(out), "--app-version", "1.2.0")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        packaged = json.loads(package.read("manifest.json"))
    assert packaged["bots"][0]["botId"] == settings.TEAMS_APP_ID
    assert packaged["version"] == "1.2.0"
    assert packaged["bots"][0]["commandLists"] == manifest["bots"][0]["commandLists"]

    settings.TEAMS_APP_ID = ""
    with pytest.raises(CommandError, match="TEAMS_APP_ID"):
        call_command("teams_app_package", str(tmp_path / "none.zip"))
