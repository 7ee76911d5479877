"""Messages that wait for another: a Slack outage at declaration, with a real worker.

Before, a post waiting for the incident's channel was retried every 2 s (``ChannelNotReady``)
and died after 10 attempts, so an outage of 20 s at declaration lost every post of the
incident. Now it waits, without attempts, for the channel's set-up and the post before it.
"""

import time

import pytest

from incidents.services import incident_note_add, incident_transition
from nexusops.common import roles
from nexusops.engine.models import OutboxMessage
from tests.conftest import _await_ready
from tests.factories import ProfileFactory, UserFactory, incident
from tests.support.worker import WorkerProcess, wait_for

# The outage: a minute, three times today's budget for a waiting post (10 attempts x
# 2 s Retry-After = 20 s).
OUTAGE_SECONDS = 60
# The set-up itself retries at most every 3 s, so it is sent soon after Slack is back, and has
# attempts enough to outlive the minute even with the least jitter (55 gaps of at least 1.5 s).
FAST = {
    "OUTBOX_BACKOFF_BASE_SECONDS": "0.25",
    "OUTBOX_BACKOFF_MAX_SECONDS": "3",
    "OUTBOX_MAX_ATTEMPTS": "60",
}


def _channel_messages(slack, channel_id: str) -> list[dict]:
    messages = slack.state()["messages"].get(channel_id, {})
    return [messages[ts] for ts in sorted(messages, key=float)]


@pytest.mark.django_db(transaction=True)
def test_a_slack_outage_at_declaration_delivers_every_message_once_in_order(slack):
    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=ic)  # no Slack id: invitations are not what this test is about
    worker = WorkerProcess(extra_env={**slack.env, **FAST}).start()
    try:
        _await_ready(worker)
        slack.inject(503, times=1_000_000)  # Slack answers nothing but 503 from now on
        outage_started = time.monotonic()
        inc = incident(title="Checkout down", severity_code="P1", actor=ic)
        incident_transition(incident=inc, action="acknowledge", actor=ic)
        for n in range(3):
            incident_note_add(incident=inc, actor=ic, message=f"note {n}", internal=True)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
        posts = OutboxMessage.objects.filter(incident=inc, target="slack.post")
        assert not posts.filter(state="dead").exists()
        assert set(posts.values_list("attempts", flat=True)) == {0}  # waiting costs nothing
        slack.reset()  # Slack is back (no faults; it had stored nothing)

        wait_for(
            lambda: (
                not OutboxMessage.objects.filter(incident=inc)
                .exclude(state__in=["sent", "dead"])
                .exists()
            ),
            timeout=120,
            interval=0.5,
            message="every message of the incident to be delivered",
        )
    finally:
        worker.stop()

    messages = OutboxMessage.objects.filter(incident=inc).order_by("pk")
    assert {(m.target, m.state) for m in messages} == {
        ("slack.channel_setup", "sent"),
        ("slack.summary_update", "sent"),
        ("slack.post", "sent"),
    }
    assert all(m.attempts == 1 for m in messages if m.target != "slack.channel_setup")
    channel = messages.get(target="slack.channel_setup").result["channel_id"]
    stored = _channel_messages(slack, channel)
    texts = [m["text"] for m in stored[1:]]  # after the pinned summary
    assert len(texts) == 4
    assert "cknowledged" in texts[0]
    assert all(f"note {n}" in text for n, text in zip(range(3), texts[1:], strict=True))
    keys = [m.get("metadata", {}).get("event_payload", {}).get("key") for m in stored]
    assert len(keys) == len(set(keys))  # each message once
