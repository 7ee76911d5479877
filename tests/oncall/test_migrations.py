"""On-call's models moved out of incidents without moving a row (issue 17).

A database at the old migrations (the models still ``incidents.Rotation`` and friends) keeps
its rotations, members, overrides, pay policy and escalation tiers once migrated forward: the
same tables, now read through ``oncall.models``. Permissions follow their models: a group or
a person granted ``incidents.manage_oncall`` before the move has ``oncall.manage_oncall`` after
it, through the same permission row.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from incidents.models import Severity
from oncall.models import EscalationPolicy, PayPolicy, Rotation, RotationOverride
from tests.factories import UserFactory, severities

BEFORE = ("incidents", "0017_channel_teams")


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _leaves() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _user(pk: int):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=pk)  # a fresh row: no cached permissions


@pytest.mark.django_db(transaction=True)
def test_rows_and_grants_written_before_the_move_are_on_calls_after_it():
    sevs = severities()
    olga, manager = UserFactory(username="olga"), UserFactory(username="maya")
    at = dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.UTC)
    try:
        executor = _migrate([BEFORE, ("oncall", None)])
        applied = executor.loader.applied_migrations
        assert BEFORE in applied and ("oncall", "0001_initial") not in applied
        old = executor.loader.project_state(BEFORE, at_end=True).apps
        rotation = old.get_model("incidents", "Rotation").objects.create(
            name="Primary", start_date=dt.date(2026, 1, 2)
        )
        old.get_model("incidents", "RotationMember").objects.create(
            rotation=rotation, user_id=olga.pk, position=0
        )
        override = old.get_model("incidents", "RotationOverride").objects.create(
            rotation=rotation,
            user_id=manager.pk,
            replaces_id=olga.pk,
            starts_at=at,
            ends_at=at + dt.timedelta(days=1),
            approved_by_id=manager.pk,
        )
        policy = old.get_model("incidents", "EscalationPolicy").objects.create(
            name="Runbook 2.4", rotation=rotation
        )
        tier = old.get_model("incidents", "EscalationTier").objects.create(
            policy=policy, order=1, name="On call", target="on_call", delay=dt.timedelta(0)
        )
        tier.severities.set([sevs["P0"].pk])
        old.get_model("incidents", "PayPolicy").objects.create(name="default")
        # Before the move the permissions were incidents': grant one to a group and a person.
        ContentType.objects.clear_cache()
        manage = Permission.objects.get(
            content_type__app_label="incidents", codename="manage_oncall"
        )
        pay = Permission.objects.get(
            content_type__app_label="incidents", codename="view_pay_report"
        )
        group = Group.objects.create(name="On-call leads")
        group.permissions.add(manage)
        olga.user_permissions.add(pay)
        # A migrate that ran with the new code but without 0002 made oncall's own rows too.
        twin_type = ContentType.objects.create(app_label="oncall", model="paypolicy")
        twin = Permission.objects.create(
            content_type=twin_type, codename="change_paypolicy", name="Can change pay policy"
        )
        old_change_pay = Permission.objects.get(
            content_type__app_label="incidents", codename="change_paypolicy"
        )
        olga.user_permissions.add(old_change_pay)
    finally:
        _migrate(_leaves())
        ContentType.objects.clear_cache()

    moved = Rotation.objects.get()
    assert (moved.pk, moved.name) == (rotation.pk, "Primary")
    assert [m.user_id for m in moved.members.all()] == [olga.pk]
    assert RotationOverride.objects.get().pk == override.pk
    assert EscalationPolicy.objects.get().rotation_id == moved.pk
    assert list(EscalationPolicy.objects.get().tiers.get().severities.all()) == [
        Severity.objects.get(code="P0")
    ]
    assert PayPolicy.objects.get().name == "default"
    assert Rotation._meta.db_table == "incidents_rotation"

    # The same permission rows, now under oncall: the grants hold.
    assert Permission.objects.get(
        content_type__app_label="oncall", codename="manage_oncall"
    ).pk == (manage.pk)
    assert _user(manager.pk).has_perm("oncall.manage_oncall") is False
    leader = UserFactory(username="lead")
    leader.groups.add(group)
    assert _user(leader.pk).has_perm("oncall.manage_oncall")
    assert _user(olga.pk).has_perm("oncall.view_pay_report")
    # Where oncall already had its own row, the grant moved onto it and the old one is gone.
    assert _user(olga.pk).has_perm("oncall.change_paypolicy")
    assert Permission.objects.filter(pk=twin.pk).exists()
    assert not Permission.objects.filter(pk=old_change_pay.pk).exists()
    assert not ContentType.objects.filter(
        app_label="incidents", model__in=["rotation", "paypolicy"]
    ).exists()
