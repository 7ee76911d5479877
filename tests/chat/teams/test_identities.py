"""A Teams person's Entra ID object id is remembered (``ChatIdentity``) once found by e-mail:
the next inbound activity asks Graph nothing."""

from __future__ import annotations

import pytest

from chat.inbound.teams import user_for_teams
from chat.models import ChatIdentity
from nexusops.common import roles
from nexusops.standins import teams as standin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_teams_user_is_found_by_e_mail_once(teams_chat):
    iris = UserFactory(username="ic", email="ic@nexus.example", role=roles.INCIDENT_COMMANDER)
    aad = standin.aad_id("ic")
    assert user_for_teams(aad) == iris
    assert user_for_teams(aad) == iris
    lookups = [r for r in teams_chat.received() if r["path"].endswith(f"/users/{aad}")]
    assert len(lookups) == 1
    [row] = ChatIdentity.objects.filter(user=iris)
    assert (row.provider, row.external_id) == ("teams", aad)
