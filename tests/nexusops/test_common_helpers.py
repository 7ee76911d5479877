"""The helpers every app's services share (nexusops/common): one copy, one behaviour."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zoneinfo

import pytest

from incidents.models import Service
from incidents.services.common import require as incidents_require
from nexusops.common import roles
from nexusops.common.errors import NotFoundError, PermissionDeniedError
from nexusops.common.services import Permissions, actor_name, lock_row
from nexusops.common.text import duration_words, fmt
from tests.factories import ServiceFactory, UserFactory


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (None, "-"),
        (dt.timedelta(0), "0 minutes"),
        (dt.timedelta(minutes=1), "1 minute"),
        (dt.timedelta(minutes=15), "15 minutes"),
        (dt.timedelta(minutes=90), "90 minutes"),
        (dt.timedelta(hours=1), "1 hour"),
        (dt.timedelta(hours=4), "4 hours"),
        (dt.timedelta(minutes=15, seconds=59), "15 minutes"),
    ],
)
def test_duration_words(delta, words):
    assert duration_words(delta) == words


def test_fmt_shows_the_moment_in_utc_whatever_its_zone():
    at = dt.datetime(2026, 3, 8, 1, 30, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert fmt(at) == "2026-03-08 09:30 UTC"


@pytest.mark.django_db
def test_require_lets_the_system_and_permitted_people_through_and_refuses_the_rest():
    permissions = Permissions("incidents", {"declare_incident": "declare incidents"})
    commander = UserFactory(username="ic-helper", role=roles.INCIDENT_COMMANDER)
    nobody = UserFactory(username="no-role-helper")

    permissions.require(None, "declare_incident")  # the system itself
    permissions.require(commander, "declare_incident")
    with pytest.raises(PermissionDeniedError, match=r"^Your role cannot declare incidents\.$"):
        permissions.require(nobody, "declare_incident")
    with pytest.raises(PermissionDeniedError, match=r"^Your role cannot retry that\.$"):
        permissions.require(nobody, "declare_incident", words="retry that")
    with pytest.raises(PermissionDeniedError, match=r"^Your role cannot view_internal\.$"):
        permissions.require(nobody, "view_internal")  # no words given: the codename
    commander.is_active = False
    with pytest.raises(PermissionDeniedError):
        permissions.require(commander, "declare_incident")


@pytest.mark.django_db
def test_the_apps_require_is_the_shared_one_with_their_own_words():
    nobody = UserFactory(username="no-role-app")
    with pytest.raises(PermissionDeniedError, match="Your role cannot drive incidents."):
        incidents_require(nobody, "drive_incident")


@pytest.mark.django_db
def test_actor_name_is_the_full_name_then_the_username_then_the_fallback():
    named = UserFactory(username="dana", first_name="Dana", last_name="Ruiz")
    plain = UserFactory(username="lee")
    assert actor_name(named) == "Dana Ruiz"
    assert actor_name(plain) == "lee"
    assert actor_name(None) == "NexusOps"
    assert actor_name(None, "ci") == "ci"


@pytest.mark.django_db
def test_lock_row_rereads_by_row_or_id_and_says_what_is_missing():
    service = ServiceFactory(slug="lock-row-svc")
    assert lock_row(Service.objects.all(), service.pk, "gone").slug == "lock-row-svc"
    assert lock_row(Service.objects.all(), service, "gone").pk == service.pk
    with pytest.raises(NotFoundError, match="^No such service.$"):
        lock_row(Service.objects.all(), service.pk + 1000, "No such service.")


def test_the_adapters_errors_do_not_import_the_celery_task_module():
    code = (
        "import sys; import nexusops.integrations.errors; "
        "sys.exit('nexusops.common.tasks' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
