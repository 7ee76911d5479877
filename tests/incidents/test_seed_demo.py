import datetime as dt

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from incidents.models import Profile, Service, Severity
from nexusops.common import roles

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

NEXUS = {
    "api-gateway",
    "user-service",
    "auth-service",
    "content-service",
    "notification-service",
    "billing-service",
    "postgresql",
    "redis",
    "mongodb",
    "s3",
}


def _snapshot():
    User = get_user_model()
    return (
        sorted(Service.objects.values_list("slug", "name", "kind", "owner_team")),
        sorted(Severity.objects.values_list("code", "rank", "definition", "response_time")),
        sorted(User.objects.values_list("username", "is_superuser", "is_staff")),
        sorted(Profile.objects.values_list("user__username", "time_zone", "org_role")),
        sorted(User.groups.through.objects.values_list("user__username", "group__name")),
    )


def test_seed_demo_loads_the_runbook_and_is_idempotent():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = _snapshot()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert _snapshot() == first

    assert set(Service.objects.values_list("slug", flat=True)) == NEXUS
    times = dict(Severity.objects.values_list("code", "response_time"))
    assert times == {
        "P0": dt.timedelta(minutes=15),
        "P1": dt.timedelta(hours=1),
        "P2": dt.timedelta(hours=4),
        "P3": dt.timedelta(hours=24),
    }
    assert Severity.objects.get(code="P0").definition == "Complete outage, data breach"
    urgencies = dict(Severity.objects.values_list("code", "pagerduty_urgency"))
    assert urgencies == {"P0": "high", "P1": "high", "P2": "low", "P3": "low"}


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("ic", roles.INCIDENT_COMMANDER),
        ("responder", roles.RESPONDER),
        ("manager", roles.MANAGER),
        ("stakeholder", roles.STAKEHOLDER),
        ("admin", roles.ADMIN),
    ],
)
def test_demo_users_log_in_with_the_demo_password_and_hold_their_role(username, role):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    user = authenticate(username=username, password="nexusops")
    assert user is not None
    assert roles.user_role(user) == role


def test_seed_demo_keeps_a_changed_password():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    user = get_user_model().objects.get(username="ic")
    user.set_password("changed-by-ic-1")
    user.save()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert authenticate(username="ic", password="changed-by-ic-1") is not None
