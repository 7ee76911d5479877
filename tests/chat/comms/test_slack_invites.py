"""Inviting people to the incident channel, against the strict Slack stand-in.

Delivery runs in-process (``outbox_deliver``) so each step is deterministic; what counts is
who ends up a member of the channel in the stand-in, and what the timeline says.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from incidents.models import Incident, Profile, TimelineEvent
from incidents.services import incident_assign
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage
from nexusops.standins import demo
from tests.factories import ProfileFactory, UserFactory, incident
from tests.support.outbox import deliver_due

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def members(slack, inc: Incident) -> set[str]:
    inc.refresh_from_db()
    return set(slack.state()["channels"][inc.slack_channel_id]["members"])


def lookups(slack) -> list[str]:
    return [r["body"]["email"] for r in slack.received("/api/users.lookupByEmail")]


def person(username: str, *, slack_id: str = "", email: str | None = None, role=roles.RESPONDER):
    user = UserFactory(username=username, first_name=username.title(), role=role)
    if email is not None:
        user.email = email
        user.save(update_fields=["email"])
    ProfileFactory(user=user, slack_user_id=slack_id)
    return user


def declare(commander, responders) -> Incident:
    """Declare with a commander (the channel is set up), then add responders."""
    inc = incident(actor=commander, commander=commander)
    deliver_due()
    return incident_assign(incident=inc, actor=commander, responders=responders)


def test_demo_flow_declare_a_p0_and_assign_the_commander(slack):
    """Issue 13's demo: declare a P0, assign the commander: they are in the channel."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    User = get_user_model()
    ic, manager = User.objects.get(username="ic"), User.objects.get(username="manager")
    inc = incident(severity_code="P0", actor=manager, commander=manager)
    deliver_due()
    assert demo.slack_user_id("manager") in members(slack, inc)

    incident_assign(incident=inc, actor=manager, commander=ic, responders=[manager])
    assert "sent" in deliver_due()

    assert {demo.slack_user_id("ic"), demo.slack_user_id("manager")} <= members(slack, inc)
    invited = TimelineEvent.objects.filter(incident=inc, kind="slack_invited").order_by("pk")
    assert [e.message for e in invited][
        -1
    ] == f"Invited Iris to #{inc.slack_channel_name} in Slack."
    assert not TimelineEvent.objects.filter(incident=inc, kind="slack_invite_failed").exists()


def test_the_new_commander_is_invited_although_the_old_one_is_a_member(slack):
    old = person("olga", slack_id="U0OLGA", role=roles.INCIDENT_COMMANDER)
    new = person("emma", slack_id="U0EMMA", role=roles.INCIDENT_COMMANDER)
    inc = incident(actor=old, commander=old)
    deliver_due()

    incident_assign(incident=inc, actor=old, commander=new, responders=[old])
    deliver_due()

    assert {"U0OLGA", "U0EMMA"} <= members(slack, inc)
    invite = OutboxMessage.objects.get(target="slack.invite")
    assert invite.state == "sent"
    assert invite.result["invited"] == ["Emma"] and invite.result["already"] == ["Olga"]


def test_an_unknown_slack_id_is_flagged_and_does_not_keep_the_others_out(slack):
    ic = person("iris", slack_id="U0IRIS", role=roles.INCIDENT_COMMANDER)
    ghost = person("gus", slack_id="U0GHOST", email="gus@elsewhere.example")
    bob = person("bob", slack_id="U0BOB")

    inc = declare(ic, [ghost, bob])
    deliver_due()

    assert {"U0IRIS", "U0BOB"} <= members(slack, inc)
    assert "U0GHOST" not in members(slack, inc)
    profile = Profile.objects.get(user=ghost)
    assert profile.slack_invalid_id == "U0GHOST"
    assert profile.slack_problem == "Slack has no user U0GHOST (user_not_found)"
    [failed] = TimelineEvent.objects.filter(incident=inc, kind="slack_invite_failed")
    assert failed.message == (
        "Could not invite to Slack: Gus: Slack has no user U0GHOST (user_not_found)."
    )
    invite = OutboxMessage.objects.get(target="slack.invite")
    assert invite.state == "sent"
    assert invite.result["failed"] == {"Gus": "Slack has no user U0GHOST (user_not_found)"}
    assert invite.result["invited"] == ["Bob"]
    assert invite.last_error == "Could not invite Gus: Slack has no user U0GHOST (user_not_found)"


def test_a_person_without_a_slack_id_is_linked_by_email_at_first_invite(slack):
    slack.command("users", {"users": [{"id": "U05DANA", "name": "dana", "email": "dana@x.io"}]})
    ic = person("iris", slack_id="U0IRIS", role=roles.INCIDENT_COMMANDER)
    dana = person("dana", email="Dana@x.io")
    inc = declare(ic, [dana])

    deliver_due()

    assert Profile.objects.get(user=dana).slack_user_id == "U05DANA"
    assert "U05DANA" in members(slack, inc)
    assert lookups(slack) == ["Dana@x.io"]
    incident_assign(incident=inc, actor=ic, responders=[dana, ic])
    deliver_due()
    assert lookups(slack) == ["Dana@x.io"]  # stored: not asked again


def test_a_flagged_id_is_replaced_by_the_one_found_by_email(slack):
    ic = person("iris", slack_id="U0IRIS", role=roles.INCIDENT_COMMANDER)
    ravi = person("ravi", slack_id="U0RAVI", email="responder@nexus.example")
    Profile.objects.filter(user=ravi).update(slack_invalid_id="U0RAVI")

    inc = declare(ic, [ravi])
    deliver_due()

    profile = Profile.objects.get(user=ravi)
    assert profile.slack_user_id == demo.slack_user_id("responder")
    assert profile.slack_problem == ""
    assert demo.slack_user_id("responder") in members(slack, inc)


def test_nobody_with_that_email_is_said_and_not_asked_again_for_a_day(slack):
    with clock.frozen(T0) as t:
        ic = person("iris", slack_id="U0IRIS", role=roles.INCIDENT_COMMANDER)
        zoe = person("zoe", email="zoe@nowhere.example")
        inc = declare(ic, [zoe])
        deliver_due()

        [failed] = TimelineEvent.objects.filter(incident=inc, kind="slack_invite_failed")
        assert failed.message == (
            "Could not invite to Slack: Zoe: no Slack user has the e-mail zoe@nowhere.example."
        )
        assert Profile.objects.get(user=zoe).slack_email_unmatched_at == T0
        assert Profile.objects.get(user=zoe).slack_problem.startswith("no Slack user")

        incident_assign(incident=inc, actor=ic, responders=[zoe, ic])
        deliver_due()
        assert lookups(slack) == ["zoe@nowhere.example"]

        t.advance(hours=25)
        incident_assign(incident=inc, actor=ic, responders=[zoe])
        deliver_due()
        assert lookups(slack) == ["zoe@nowhere.example"] * 2


def test_every_seeded_demo_slack_id_exists_in_the_standin_workspace(slack):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    workspace = slack.state()["users"]

    seeded = Profile.objects.exclude(slack_user_id="").values_list("user__email", "slack_user_id")

    assert seeded
    for email, slack_id in seeded:
        assert workspace[slack_id]["profile"]["email"] == email
