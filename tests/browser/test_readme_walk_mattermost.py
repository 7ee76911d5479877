"""The README's first walk with ``NEXUSOPS_CHAT=mattermost`` (issue #19): Mattermost in place of
Slack, and the incident driven from Mattermost too.

The same demo as ``test_readme_walk`` (``seed_demo``, the stand-ins as ``make run`` starts them,
a real worker), but: the incident's channel is in the Mattermost stand-in with the summary
pinned; it is acknowledged by the summary's button (its signed context POSTed as Mattermost
does), noted with ``!timeline`` through the outgoing webhook, a post pinned (seen by the pin
listener, ``manage.py mattermost_listen``, on Mattermost's WebSocket), resolved by the button once
mitigated, and the channel is archived after close.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from chat import senders
from incidents.models import TimelineEvent
from incidents.seed import DEMO_PASSWORD
from nexusops.engine.outbox import registry
from nexusops.integrations.mattermost.client import MattermostClient
from nexusops.standins import demo
from nexusops.standins.control import StandinControl
from nexusops.standins.mattermost.words import user_token
from tests.support.browser_fixtures import log_in
from tests.support.standins_process import demo_env
from tests.support.worker import ROOT, WorkerProcess

from .test_readme_walk import WORKER_MS

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.nexusops.standins_urls")]

IC_MM = "mmuseric".ljust(26, "0")  # the demo's `ic` in the Mattermost stand-in, by e-mail


@pytest.fixture
def mattermost_console(transactional_db, demo_settings, standins, live_server):
    """What `NEXUSOPS_CHAT=mattermost make run` has."""
    demo_settings.INCIDENT_MONITORING_MINUTES = 0
    demo_settings.NEXUSOPS_CHAT = "mattermost"
    demo_settings.SITE_URL = live_server.url  # as `make run` sets it: the buttons post here
    demo_settings.CHAT_ARCHIVE_AFTER_HOURS = 0  # the walk does not wait a day to see it
    senders.register()
    with open("/dev/null", "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    base, var_dir = standins
    env = {
        **demo_env(base, var_dir),
        "INCIDENT_MONITORING_MINUTES": "0",
        "NEXUSOPS_CHAT": "mattermost",
        "CHAT_ARCHIVE_AFTER_HOURS": "0",
        "SITE_URL": live_server.url,
    }
    worker = WorkerProcess(extra_env=env).start()
    listener = PinListenerProcess(extra_env=env).start()  # `make run`'s `mattermost` line
    try:
        worker.await_ready()
        yield StandinControl(demo_settings.MATTERMOST_URL)
    finally:
        listener.stop()
        worker.stop()
        for effect in senders.EFFECTS:  # the suite's other tests run with Slack alone
            registry._senders.pop(f"mattermost.{effect}", None)


class PinListenerProcess(WorkerProcess):
    """``manage.py mattermost_listen`` in a child process, on the test database and broker."""

    def start(self) -> PinListenerProcess:
        self.log_path = self.log_path.with_name(f"test-mm-listener-{os.getpid()}.log")
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "mattermost_listen", "--backoff-max", "2"],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self


def _until(predicate, what: str, timeout_ms: int = WORKER_MS):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _channel(mm: StandinControl, name: str) -> dict | None:
    return next((c for c in mm.state()["channels"].values() if c["name"] == name), None)


def _pinned(mm: StandinControl, channel_id: str) -> list[dict]:
    posts = mm.state()["posts"].values()
    return [p for p in posts if p["channel_id"] == channel_id and p.get("is_pinned")]


def _post(url: str, body: bytes, kind: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _press(url: str, summary: dict, action: str) -> tuple[int, str]:
    """The button press Mattermost POSTs: the integration's context, as we signed it."""
    buttons = summary["props"]["attachments"][0]["actions"]
    [button] = [b for b in buttons if b["id"] == action]
    assert button["integration"]["url"] == f"{url}/mattermost/actions/"
    press = {
        "user_id": IC_MM,
        "user_name": "ic",
        "channel_id": summary["channel_id"],
        "team_id": settings.MATTERMOST_TEAM_ID,
        "post_id": summary["id"],
        "trigger_id": "",
        "type": "",
        "context": button["integration"]["context"],
    }
    return _post(button["integration"]["url"], json.dumps(press).encode(), "application/json")


def test_the_readme_walk_with_mattermost(page, live_server, mattermost_console):
    mm, url = mattermost_console, live_server.url
    log_in(page, live_server, "ic", DEMO_PASSWORD)
    page.goto(f"{url}/incidents/")
    page.keyboard.press("d")
    page.get_by_label("Title").fill("API gateway returning 502s")
    page.locator("label.sev-option", has_text="P0").click()
    page.get_by_label("Affected services").select_option(["api-gateway"])
    page.get_by_role("button", name="Declare incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-\d{8}-\d{3}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    header = page.locator("#incident-header")

    # The worker made the channel in Mattermost and pinned the summary, with its button.
    channel = _until(lambda: _channel(mm, "incident-" + number[4:].lower()), "the channel")
    [summary] = _until(lambda: _pinned(mm, channel["id"]), "the pinned summary")
    assert number in summary["message"] and "Triggered" in summary["message"]
    standins = page.context.new_page()  # the Stand-ins page shows it under Mattermost
    standins.goto(f"{url}/standins/")
    expect(standins.locator("section", has_text="Mattermost").first).to_contain_text(
        channel["name"]
    )
    standins.close()

    # Acknowledge by the summary's button: the console shows it, by `ic`, from Mattermost.
    assert _press(url, summary, "acknowledge")[0] == 200
    expect(header.locator(".pill")).to_have_text("Acknowledged", timeout=WORKER_MS)
    timeline = page.locator("#incident-timeline")
    expect(timeline).to_contain_text("Acknowledged")

    # `!timeline` through the outgoing webhook: an internal note by `ic`.
    outgoing = {
        "token": demo.TOKENS["mattermost_outgoing"],
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "user_id": IC_MM,
        "user_name": "ic",
        "post_id": "mmpostfromic00000000000001",
        "text": "!timeline restarted the gateway pods",
        "trigger_word": "!timeline",
    }
    form = urlencode(outgoing).encode()
    assert _post(f"{url}/mattermost/outgoing/", form, "application/x-www-form-urlencoded")[0] == 200
    expect(timeline).to_contain_text("restarted the gateway pods", timeout=WORKER_MS)

    # `ic` joins the channel (added by the bot here) and pins a post of theirs in it: the pin
    # listener puts it on the timeline.
    team = settings.MATTERMOST_TEAM_ID
    MattermostClient(settings.MATTERMOST_URL, settings.MATTERMOST_TOKEN, team).channel_add(
        channel["id"], [IC_MM]
    )
    as_ic = MattermostClient(settings.MATTERMOST_URL, user_token("ic"), team)
    as_ic.post_pin(as_ic.post_create(channel["id"], "Gateway pods OOM-killed at 09:12"))
    expect(timeline).to_contain_text(
        "Pinned in Mattermost: a message by Iris: “Gateway pods OOM-killed at 09:12”",
        timeout=WORKER_MS,
    )

    # Investigating and Mitigated in the console; the pinned summary follows and offers Resolve.
    for button, status in (
        ("Start investigating", "Investigating"),
        ("Mark mitigated", "Mitigated"),
    ):
        header.get_by_role("button", name=button, exact=True).click()
        expect(header.locator(".pill")).to_have_text(status)
    summary = _until(
        lambda: next(
            (p for p in _pinned(mm, channel["id"]) if "**Status:** Mitigated" in p["message"]),
            None,
        ),
        "the summary to show Mitigated",
    )
    assert _press(url, summary, "resolve")[0] == 200
    expect(header.locator(".pill")).to_have_text("Resolved", timeout=WORKER_MS)
    _until(
        lambda: any("**Status:** Resolved" in p["message"] for p in _pinned(mm, channel["id"])),
        "the pinned summary to show Resolved",
    )

    # Monitoring, the post-mortem meeting booked, Closed: the channel is archived.
    page.reload()
    header.get_by_role("button", name="Start monitoring").click()
    expect(header.locator(".pill")).to_have_text("Monitoring")
    page.goto(f"{url}/postmortems/{number}/")
    page.get_by_label("Date and time").fill("2030-01-15T10:00")
    page.get_by_label("Attendees").select_option(label=["Iris", "Ravi"])
    page.get_by_role("button", name="Schedule and invite").click()
    expect(page.locator("#pm-meeting")).to_contain_text("Scheduled for")
    page.goto(f"{url}/incidents/{number}/")
    header.get_by_role("button", name="Close", exact=True).click()
    expect(header.locator(".pill")).to_have_text("Closed")
    _until(lambda: _channel(mm, channel["name"])["delete_at"], "the channel to be archived")

    # What was done in Mattermost is on the timeline as done there, by `ic` (rule 13).
    from_mattermost = TimelineEvent.objects.filter(
        incident__number=number, channel="mattermost", actor__username="ic"
    )
    assert {e.message.split(" ")[0] for e in from_mattermost.filter(kind="status_changed")} == {
        "Acknowledged",
        "Resolved:",
    }
    assert from_mattermost.filter(kind="note", message="restarted the gateway pods").exists()
