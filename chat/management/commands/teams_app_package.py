"""``manage.py teams_app_package nexusops-teams.zip``: the Teams app package for this console.

``deploy/teams/manifest.json`` with the bot's id set to ``TEAMS_APP_ID``, zipped with its two
icons at the package's root, which is what the Teams admin center and the Developer Portal
take. The manifest's commands are the bot's (a test keeps them equal).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


def app_dir() -> Path:
    return Path(settings.BASE_DIR) / "deploy" / "teams"


class Command(BaseCommand):
    help = "Write the Microsoft Teams app package (manifest and icons) for TEAMS_APP_ID."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("output", help="the .zip to write")
        parser.add_argument("--app-version", default="", help="the app's version (semver)")

    def handle(self, *args, output: str, app_version: str, **options) -> None:  # noqa: ANN002, ANN003
        app_id = str(settings.TEAMS_APP_ID or "")
        if not GUID.match(app_id):
            raise CommandError("TEAMS_APP_ID must be the bot's app (client) id, a GUID.")
        if app_version and not re.fullmatch(r"\d+\.\d+\.\d+", app_version):
            raise CommandError("--app-version must look like 1.2.3.")
        manifest = json.loads((app_dir() / "manifest.json").read_text())
        manifest["bots"][0]["botId"] = app_id
        if app_version:
            manifest["version"] = app_version
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as package:
            package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
            for icon in manifest["icons"].values():
                package.write(app_dir() / icon, icon)
        self.stdout.write(f"Wrote {output}: the NexusOps app for the bot {app_id}.")
