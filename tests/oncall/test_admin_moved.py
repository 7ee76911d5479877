"""On-call's admin after the move: the manager edits rotations under /admin/oncall/, and the
old /admin/incidents/… addresses lead there."""

from __future__ import annotations

import datetime as dt

from nexusops.common import roles
from oncall.models import Rotation
from tests.factories import UserFactory


def test_a_manager_edits_rotations_in_the_admin_and_old_addresses_redirect(client, db):
    manager = UserFactory(username="maya", role=roles.MANAGER, is_staff=True)
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    client.force_login(manager)
    page = client.get(f"/admin/oncall/rotation/{rotation.pk}/change/")
    assert page.status_code == 200 and b"Primary" in page.content
    old = client.get(f"/admin/incidents/rotation/{rotation.pk}/change/?x=1")
    assert old.status_code == 301
    assert old["Location"] == f"/admin/oncall/rotation/{rotation.pk}/change/?x=1"
    assert client.get("/admin/incidents/severity/").status_code == 200  # incidents' own stay


def test_a_responder_cannot_reach_the_rotation_admin(client, db):
    responder = UserFactory(username="ravi", role=roles.RESPONDER, is_staff=True)
    client.force_login(responder)
    assert client.get("/admin/oncall/rotation/").status_code == 403
