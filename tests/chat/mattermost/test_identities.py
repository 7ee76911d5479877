"""People's Mattermost ids are remembered (``ChatIdentity``): found by e-mail once, used
first after that, and looked up again when Mattermost says an id is unknown."""

from __future__ import annotations

import pytest

from chat.inbound.mattermost import user_for_mattermost
from chat.models import ChatIdentity, IncidentChatChannel
from incidents.models import TimelineEvent
from nexusops.common import roles
from tests.factories import UserFactory, incident
from tests.support.outbox import deliver_due

from .conftest import calls

pytestmark = pytest.mark.django_db
IRIS_MM = "mmuseriris00000000000000ic"
GONE_MM = "mmusergone0000000000000000"


@pytest.fixture
def iris():
    return UserFactory(
        username="iris", first_name="Iris", email="iris@nexus.example", role=roles.RESPONDER
    )


def _members(mattermost, inc) -> list[str]:
    row = IncidentChatChannel.objects.get(incident=inc, provider="mattermost")
    return mattermost.state()["members"][row.channel_id]


def test_the_id_found_by_e_mail_is_kept_and_used_first(mattermost, iris):
    first = incident(title="First", actor=iris, commander=iris)
    deliver_due()
    assert IRIS_MM in _members(mattermost, first)
    [row] = ChatIdentity.objects.filter(user=iris)
    assert (row.provider, row.external_id) == ("mattermost", IRIS_MM)
    assert len(calls(mattermost, "GET", "/users/email/iris@nexus.example")) == 1

    second = incident(title="Second", actor=iris, commander=iris, services=("payments",))
    deliver_due()
    assert IRIS_MM in _members(mattermost, second)
    assert len(calls(mattermost, "GET", "/users/email/iris@nexus.example")) == 1  # not again


def test_an_id_mattermost_does_not_know_is_looked_up_again_and_refreshed(mattermost, iris):
    ChatIdentity.objects.create(user=iris, provider="mattermost", external_id=GONE_MM)
    inc = incident(actor=iris, commander=iris)
    deliver_due()
    assert IRIS_MM in _members(mattermost, inc)
    assert ChatIdentity.objects.get(user=iris).external_id == IRIS_MM
    assert TimelineEvent.objects.filter(
        incident=inc, kind="mattermost_invited", message__contains="Iris"
    ).exists()
    assert not TimelineEvent.objects.filter(incident=inc, kind="mattermost_invite_failed").exists()


def test_inbound_requests_use_the_remembered_id(mattermost, iris):
    assert user_for_mattermost(IRIS_MM) == iris
    assert user_for_mattermost(IRIS_MM) == iris
    assert len(calls(mattermost, "GET", f"/users/{IRIS_MM}")) == 1
    # An unknown id is nobody, and nothing is remembered for it.
    assert user_for_mattermost(GONE_MM) is None
    assert list(ChatIdentity.objects.values_list("external_id", flat=True)) == [IRIS_MM]
