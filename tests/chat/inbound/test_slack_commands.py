"""``/incident`` end to end: signed form in, service call in the task, reply via response_url."""

from __future__ import annotations

import pytest

from chat.inbound.slack_commands import COMMANDS
from incidents.models import Channel, Incident, Status, TimelineEvent
from nexusops.engine.models import InboundDelivery

from .conftest import CHANNEL, RESPONSE_PATH, form, slack_headers

pytestmark = pytest.mark.django_db
URL = "/slack/commands/"


@pytest.fixture
def command(post, slack_hooks):
    def run(text: str, *, user: str = "U0ALICE", channel: str = CHANNEL, **extra):
        fields = {
            "command": "/incident",
            "text": text,
            "user_id": user,
            "user_name": "someone",
            "channel_id": channel,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "response_url": slack_hooks.response_url,
            **extra,
        }
        body = form(**fields)
        return post(URL, body, slack_headers(body), "application/x-www-form-urlencoded")

    return run


def replies(slack_hooks) -> list[str]:
    return [r["body"]["text"] for r in slack_hooks.received(RESPONSE_PATH)]


def test_help_lists_every_registered_command(command, alice):
    response = command("help")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    for name, spec in COMMANDS.items():
        assert f"/incident {spec.usage}" in body["text"], name
    assert {"declare", "status", "ack", "severity", "ic", "note", "update", "resolve"} <= set(
        COMMANDS
    )


def test_unknown_subcommand(command, alice):
    response = command("frobnicate now")
    assert response.json()["text"].startswith("Unknown command `frobnicate`; try `/incident help`")
    assert not InboundDelivery.objects.exists()


def test_unlinked_slack_user_changes_nothing(command, live_incident, slack_hooks):
    before = TimelineEvent.objects.count()
    response = command("ack", user="U0NOBODY")
    assert "No NexusOps account is linked to your Slack user" in response.json()["text"]
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()
    assert replies(slack_hooks) == []


def test_declare_end_to_end(command, alice, slack_hooks):
    from tests.factories import ServiceFactory, severities

    severities()
    ServiceFactory(slug="api-gateway")
    ServiceFactory(slug="postgres")
    response = command("declare p1 Checkout @channel <!here> down --services api-gateway,postgres")

    assert response.json()["response_type"] == "ephemeral"
    assert response.json()["text"].startswith("Declaring a P1 incident")
    created = Incident.objects.get()
    assert created.title == "Checkout @channel <!here> down"
    assert created.severity.code == "P1" and created.source == Channel.SLACK
    assert sorted(created.services.values_list("slug", flat=True)) == ["api-gateway", "postgres"]
    declared = created.events.get(kind="declared")
    assert declared.channel == Channel.SLACK and declared.actor == alice
    (reply,) = slack_hooks.received(RESPONSE_PATH)
    assert reply["body"]["response_type"] == "ephemeral"
    text = reply["body"]["text"]
    assert created.number in text
    # the title cannot ping anyone: <!here> is entity-escaped and @channel is broken up
    assert "<!here>" not in text and "&lt;!here&gt;" in text
    assert "@channel" not in text and "@\u200bchannel" in text


def test_declare_with_bad_arguments_changes_nothing(command, alice):
    for text in ("declare", "declare P7 Broken", "declare P1"):
        response = command(text)
        assert response.status_code == 200
        assert "`/incident declare" in response.json()["text"]
    assert not Incident.objects.exists()


def test_declare_unknown_service_replies_with_service_error(command, alice, slack_hooks):
    from tests.factories import severities

    severities()
    command("declare P2 Search slow --services nope")
    assert not Incident.objects.exists()
    assert replies(slack_hooks) == [":warning: Unknown service(s): nope."]


def test_status_in_incident_channel_answers_at_once(command, alice, live_incident, slack_hooks):
    text = command("status").json()["text"]
    assert live_incident.number in text and "Triggered" in text and "Checkout errors" in text
    assert replies(slack_hooks) == []  # answered in the HTTP response, no task


def test_status_by_number_and_outside_incident_channel(command, alice, live_incident):
    assert (
        live_incident.number
        in command(f"status {live_incident.number}", channel="C0OTHER").json()["text"]
    )
    assert "not an incident channel" in command("status", channel="C0OTHER").json()["text"]
    assert "No incident INC-20000101-999" in command("status INC-20000101-999").json()["text"]


def test_ack_end_to_end(command, alice, live_incident, slack_hooks):
    response = command("ack")
    assert response.json()["text"] == f"Acknowledging {live_incident.number}…"
    live_incident.refresh_from_db()
    assert live_incident.status == Status.ACKNOWLEDGED
    event = live_incident.events.get(kind="status_changed")
    assert event.channel == Channel.SLACK and event.actor == alice
    (text,) = replies(slack_hooks)
    assert live_incident.number in text and "acknowledged" in text


def test_ack_without_permission_replies_and_changes_nothing(
    command, stakeholder, live_incident, slack_hooks
):
    before = TimelineEvent.objects.count()
    command("ack", user="U0SAM")
    live_incident.refresh_from_db()
    assert live_incident.status == Status.TRIGGERED
    assert TimelineEvent.objects.count() == before
    assert replies(slack_hooks) == [":warning: Your role cannot acknowledge incidents."]


def test_resolve_not_allowed_yet_replies_with_the_state_machine(
    command, alice, live_incident, slack_hooks
):
    before = TimelineEvent.objects.count()
    command("resolve")
    assert TimelineEvent.objects.count() == before
    (text,) = replies(slack_hooks)
    assert f"Cannot resolve {live_incident.number}: it is triggered" in text


def test_severity(command, alice, live_incident, slack_hooks):
    command("severity p0")
    live_incident.refresh_from_db()
    assert live_incident.severity.code == "P0"
    assert live_incident.events.get(kind="updated").channel == Channel.SLACK
    assert "severity is P0" in replies(slack_hooks)[0]
    assert "Usage" in command("severity urgent").json()["text"]


@pytest.mark.parametrize("who", ["<@U0BOB>", "<@U0BOB|bob>", "@bob"])
def test_ic_by_slack_mention_or_username(command, alice, bob, live_incident, who):
    command(f"ic {who}")
    live_incident.refresh_from_db()
    assert live_incident.commander == bob
    assert live_incident.events.get(kind="assigned").channel == Channel.SLACK


def test_ic_unknown_person(command, alice, live_incident):
    before = TimelineEvent.objects.count()
    assert "No NexusOps account is linked to" in command("ic <@U0GHOST>").json()["text"]
    assert TimelineEvent.objects.count() == before


def test_note_is_internal_and_update_is_public(command, alice, live_incident):
    command("note Checked the <load balancer>")
    command("update We are investigating slow checkouts.")
    note = live_incident.events.get(kind="note")
    update = live_incident.events.get(kind="update")
    assert note.visibility == TimelineEvent.Visibility.INTERNAL
    assert note.message == "Checked the <load balancer>"
    assert update.visibility == TimelineEvent.Visibility.PUBLIC
    assert {note.channel, update.channel} == {Channel.SLACK}


def test_response_url_off_slack_is_refused(command, alice, live_incident, slack_hooks):
    before = TimelineEvent.objects.count()
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "https://hooks.slack.com.evil.example/x",
    ):
        response = command("ack", response_url=url)
        assert "not a Slack URL" in response.json()["text"]
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()


def test_replayed_request_is_handled_once(post, slack_hooks, alice, live_incident):
    body = form(
        command="/incident",
        text="note once",
        user_id="U0ALICE",
        channel_id=CHANNEL,
        response_url=slack_hooks.response_url,
    )
    headers = slack_headers(body)
    first = post(URL, body, headers, "application/x-www-form-urlencoded")
    again = post(URL, body, headers, "application/x-www-form-urlencoded")
    assert first.json()["text"].startswith("Adding an internal note")
    assert again.json()["text"] == "This request was already handled."
    assert live_incident.events.filter(kind="note").count() == 1


@pytest.mark.parametrize("body", [b"text=ack", b"\xff\xfe", b"a=1&&b"])
def test_malformed_form_is_400(post, alice, body):
    response = post(URL, body, slack_headers(body), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "error" in response.json()
    assert not TimelineEvent.objects.exists()


def test_ssl_check_is_answered(post):
    body = form(ssl_check="1", token="legacy")
    assert (
        post(URL, body, slack_headers(body), "application/x-www-form-urlencoded").status_code == 200
    )
