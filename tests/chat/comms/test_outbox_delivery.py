"""The outbox end to end: real slack-sdk and pagerduty clients against the stand-ins.

Delivery runs in-process here (``outbox_deliver``) so each step is deterministic; the
worker and broker tests are in test_outbox_resilience.py.
"""

import datetime as dt
import json

import pytest

from incidents.models import ChecklistItem, TimelineEvent
from incidents.services import incident_assign, incident_note_add, incident_transition
from incidents.services.delivery import outbox_retry
from nexusops.common import clock, roles
from nexusops.common.errors import Conflict
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver, outbox_relay
from tests.factories import ProfileFactory, UserFactory, incident
from tests.support.outbox import deliver_due

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def calls(control, method: str) -> list[dict]:
    return [r for r in control.received() if r["path"] == f"/api/{method}"]


@pytest.fixture
def ic():
    user = UserFactory(username="iris", first_name="Iris", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=user, slack_user_id="U0IRIS")
    return user


def test_integrations_that_are_not_configured_enqueue_nothing(ic):
    inc = incident(actor=ic)
    incident_transition(incident=inc, action="acknowledge", actor=ic)
    assert not OutboxMessage.objects.exists()


def test_declare_creates_the_channel_pins_a_summary_and_pages(slack, pagerduty, ic):
    inc = incident(title="Checkout <!channel> failing", actor=ic, commander=ic)
    targets = sorted(OutboxMessage.objects.values_list("target", flat=True))
    assert targets == ["pagerduty.trigger", "slack.channel_setup"]
    assert deliver_due() == ["sent", "sent"]

    [create] = calls(slack, "conversations.create")
    assert create["body"]["name"] == inc.number.lower().replace("inc-", "incident-")
    [topic] = calls(slack, "conversations.setTopic")
    assert "P1" in topic["body"]["topic"] and "&lt;!channel&gt;" in topic["body"]["topic"]
    [invite] = calls(slack, "conversations.invite")
    assert invite["body"]["users"] == "U0IRIS"
    [post] = calls(slack, "chat.postMessage")
    blocks = post["body"]["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["incident_ack", "incident_open"]
    assert actions["elements"][1]["url"].endswith(f"/incidents/{inc.number}/")
    [pin] = calls(slack, "pins.add")
    state = slack.state()
    channel_id = next(iter(state["channels"]))
    assert state["pins"][channel_id] == [pin["body"]["timestamp"]]

    inc.refresh_from_db()
    assert inc.slack_channel_id == channel_id and inc.slack_summary_ts == pin["body"]["timestamp"]
    assert ChecklistItem.objects.get(incident=inc, key="create_channel").done
    [event] = [r for r in pagerduty.received() if r["path"] == "/v2/enqueue"]
    assert event["body"]["dedup_key"] == inc.number
    assert event["body"]["event_action"] == "trigger"
    assert event["body"]["payload"]["severity"] == "error"


def test_changes_edit_the_pinned_summary_mirror_into_the_channel_and_sync_pagerduty(
    slack, pagerduty, ic
):
    inc = incident(actor=ic, commander=ic)
    deliver_due()
    incident_transition(incident=inc, action="acknowledge", actor=ic)
    incident_note_add(incident=inc, actor=ic, message="Rolling back user-service", internal=True)
    deliver_due()
    updates = calls(slack, "chat.update")
    assert len(updates) == 1 and "Acknowledged" in updates[0]["body"]["text"]
    texts = [c["body"]["text"] for c in calls(slack, "chat.postMessage")]
    assert any("Acknowledged" in t for t in texts)
    assert any("Rolling back user-service" in t for t in texts)
    actions = [
        r["body"]["event_action"] for r in pagerduty.received() if r["path"] == "/v2/enqueue"
    ]
    assert actions == ["trigger", "acknowledge"]


def test_an_acknowledgement_that_came_from_pagerduty_is_not_echoed_back(slack, pagerduty, ic):
    inc = incident(actor=ic)
    incident_transition(incident=inc, action="acknowledge", actor=None, channel="pagerduty")
    assert not OutboxMessage.objects.filter(target="pagerduty.acknowledge").exists()
    assert OutboxMessage.objects.filter(target="slack.summary_update").exists()


def test_slack_429_then_500_then_200_is_delivered_once_with_attempts_recorded(slack, ic):
    with clock.frozen(T0) as t:
        inc = incident(actor=ic)
        message = OutboxMessage.objects.get(target="slack.channel_setup")
        # slack-sdk retries one 429 itself; the second 429 reaches us with its Retry-After.
        slack.inject(429, times=2, retry_after=7)
        slack.inject(500, times=1)
        assert outbox_deliver(message_id=message.pk) == "retrying"
        message.refresh_from_db()
        assert message.attempts == 1 and "RateLimited" in message.last_error
        assert message.next_attempt_at == T0 + dt.timedelta(seconds=7)
        assert outbox_deliver(message_id=message.pk) == "skipped"  # not due yet
        t.advance(seconds=7)
        assert outbox_deliver(message_id=message.pk) == "retrying"
        message.refresh_from_db()
        assert message.attempts == 2 and "VendorUnavailable" in message.last_error
        t.set(message.next_attempt_at)
        assert outbox_deliver(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == ("sent", 3, "")
    assert len(slack.state()["channels"]) == 1
    assert len(calls(slack, "chat.postMessage")) == 1
    assert message.result["channel_id"] == inc.__class__.objects.get(pk=inc.pk).slack_channel_id


def test_a_message_that_keeps_failing_dies_visibly_and_can_be_retried(settings, slack, ic):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    with clock.frozen(T0) as t:
        inc = incident(actor=ic)
        message = OutboxMessage.objects.get(target="slack.channel_setup")
        slack.inject(500, times=2)
        outbox_deliver(message_id=message.pk)
        message.refresh_from_db()
        t.set(message.next_attempt_at)
        assert outbox_deliver(message_id=message.pk) == "dead"
        failed = TimelineEvent.objects.get(incident=inc, kind="delivery_failed")
        assert failed.visibility == "internal"
        assert "Slack channel set-up failed after 2 attempt(s)" in failed.message
        outbox_retry(message=message.pk, actor=ic)
        assert deliver_due() == ["sent"]
    assert TimelineEvent.objects.filter(incident=inc, kind="delivery_retried").exists()
    with pytest.raises(Conflict):
        outbox_retry(message=message.pk, actor=ic)


def test_a_stakeholder_cannot_retry_a_delivery(settings, slack, ic):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    incident(actor=ic)
    message = OutboxMessage.objects.get(target="slack.channel_setup")
    slack.inject(500, times=1)
    outbox_deliver(message_id=message.pk)
    from nexusops.common.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        outbox_retry(message=message.pk, actor=UserFactory(role=roles.STAKEHOLDER))
    message.refresh_from_db()
    assert message.state == "dead"


def test_enqueueing_the_same_key_twice_keeps_one_message(slack, ic):
    from nexusops.engine.outbox import outbox_enqueue

    inc = incident(actor=ic)
    first = outbox_enqueue(target="slack.post", key="k-1", incident=inc, payload={"text": "a"})
    again = outbox_enqueue(target="slack.post", key="k-1", incident=inc, payload={"text": "b"})
    assert first.created and not again.created
    assert first.message.pk == again.message.pk and again.message.payload == {"text": "a"}


def test_a_post_waits_for_the_channel_then_goes_out(slack, ic):
    with clock.frozen(T0):
        inc = incident(actor=ic)
        incident_note_add(incident=inc, actor=ic, message="first note", internal=True)
        post = OutboxMessage.objects.get(target="slack.post")
        setup = OutboxMessage.objects.get(target="slack.channel_setup")
        assert (post.state, post.depends_on_id) == ("waiting", setup.pk)
        assert outbox_deliver(message_id=post.pk) == "skipped"  # not attempted while waiting
        deliver_due()
    post.refresh_from_db()
    assert (post.state, post.attempts) == ("sent", 1)


def test_a_long_slack_outage_costs_waiting_posts_no_attempts(settings, slack, ic):
    settings.OUTBOX_MAX_ATTEMPTS = 10
    slack.inject(500, times=9)  # the set-up's first 9 attempts fail; more than 10 x 2 s
    with clock.frozen(T0) as t:
        inc = incident(actor=ic)
        for n in range(3):
            incident_note_add(incident=inc, actor=ic, message=f"note {n}", internal=True)
        for _ in range(12):
            deliver_due()
            t.advance(minutes=20)  # past any backoff
    posts = OutboxMessage.objects.filter(target="slack.post").order_by("pk")
    assert [(p.state, p.attempts) for p in posts] == [("sent", 1)] * 3
    channel = OutboxMessage.objects.get(target="slack.channel_setup").result["channel_id"]
    texts = [c["body"]["text"] for c in calls(slack, "chat.postMessage")[1:]]  # after summary
    assert len(texts) == 3
    assert all(f"note {n}" in text for n, text in enumerate(texts))  # in the order of events
    assert all(c["body"]["channel"] == channel for c in calls(slack, "chat.postMessage"))


def test_a_dead_channel_setup_blocks_its_posts_until_it_is_retried(settings, slack, ic):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    slack.inject(500, times=2)
    with clock.frozen(T0) as t:
        inc = incident(actor=ic)
        incident_note_add(incident=inc, actor=ic, message="a note", internal=True)
        deliver_due()
        t.advance(minutes=5)
        deliver_due()
        setup = OutboxMessage.objects.get(target="slack.channel_setup")
        post = OutboxMessage.objects.get(target="slack.post")
        assert setup.state == "dead"
        assert (post.state, post.attempts) == ("waiting", 0)
        assert "Blocked: Slack channel set-up failed" in post.last_error
        incident_note_add(incident=inc, actor=ic, message="a later note", internal=True)
        later = OutboxMessage.objects.get(target="slack.post", pk__gt=post.pk)
        assert (later.state, later.depends_on_id) == ("waiting", post.pk)  # keeps the order
        outbox_retry(message=setup, actor=ic)
        deliver_due()
    for message in (post, later):
        message.refresh_from_db()
        assert (message.state, message.attempts, message.last_error) == ("sent", 1, "")


def test_assigning_responders_invites_them(slack, ic):
    inc = incident(actor=ic)
    deliver_due()
    bob = UserFactory(username="bob", role=roles.RESPONDER)
    ProfileFactory(user=bob, slack_user_id="U0BOB")
    incident_assign(incident=inc, actor=ic, responders=[bob])
    deliver_due()
    invites = [c["body"]["users"] for c in calls(slack, "conversations.invite")]
    assert "U0BOB" in invites[-1]


def test_the_relay_redispatches_due_messages_and_skips_fresh_ones(settings, slack, ic):
    settings.OUTBOX_RELAY_GRACE_SECONDS = 5
    with clock.frozen(T0) as t:
        incident(actor=ic)
        assert outbox_relay() == 0  # just written: its own dispatch is on the way
        t.advance(seconds=6)
        assert outbox_relay() == 1


def test_the_relay_releases_a_post_that_missed_its_prerequisites_release(settings, slack, ic):
    # A post enqueued while its prerequisite was being recorded as sent is not seen by that
    # release (its row was not committed yet); the relay lets it go.
    settings.OUTBOX_RELAY_GRACE_SECONDS = 0
    with clock.frozen(T0):
        inc = incident(actor=ic)
        incident_note_add(incident=inc, actor=ic, message="a note", internal=True)
        setup = OutboxMessage.objects.get(target="slack.channel_setup")
        assert outbox_deliver(message_id=setup.pk) == "sent"  # its release found the post
        post = OutboxMessage.objects.get(target="slack.post")
        assert post.state == "pending"
        OutboxMessage.objects.filter(pk=post.pk).update(state="waiting")  # as if it missed it
        assert outbox_relay() == 1
        assert OutboxMessage.objects.get(pk=post.pk).state == "pending"
        assert deliver_due() == ["sent"]
