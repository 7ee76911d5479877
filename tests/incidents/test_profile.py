"""The person's own profile: a time zone chosen or taken from the browser; links read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from incidents.models import Profile
from incidents.services.people import profile_time_zone_default, profile_time_zone_set
from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError
from tests.factories import ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

WINTER = dt.datetime(2026, 1, 15, 17, 30, tzinfo=dt.UTC)


def _person(username: str, role: str = roles.STAKEHOLDER, **profile: object):
    user = UserFactory(username=username, role=role)
    ProfileFactory(user=user, **profile)
    return user


def test_a_stakeholder_changes_their_own_time_zone_and_pages_use_it(client):
    user = _person("sam")
    client.force_login(user)
    response = client.post("/profile/", {"time_zone": " Asia/Tokyo "})
    assert response.status_code == 302 and response["Location"] == "/profile/"
    assert Profile.objects.get(user=user).time_zone == "Asia/Tokyo"
    with clock.frozen(WINTER):
        html = client.get("/profile/").content.decode()
    assert "Times are now shown in Asia/Tokyo." in html
    assert 'title="2026-01-15 17:30:00 UTC">2026-01-16 02:30 JST</time>' in html


def test_an_unknown_zone_is_refused_with_a_clear_error_and_changes_nothing(client):
    user = _person("sam", time_zone="Europe/Berlin")
    client.force_login(user)
    for bad in ("Mars/Olympus_Mons", "", "localtime"):
        response = client.post("/profile/", {"time_zone": bad})
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
    assert "is not a time zone this console knows" in response.content.decode()
    assert Profile.objects.get(user=user).time_zone == "Europe/Berlin"


def test_nobody_changes_another_persons_zone(client):
    sam = _person("sam")
    iris = _person("iris", roles.INCIDENT_COMMANDER, time_zone="America/Los_Angeles")
    client.force_login(sam)
    # There is no id to aim at: extra fields naming someone else only change the sender's own.
    client.post("/profile/", {"time_zone": "Asia/Tokyo", "user": iris.pk, "username": "iris"})
    client.post("/profile/browser-time-zone/", {"time_zone": "Asia/Tokyo", "user": iris.pk})
    assert Profile.objects.get(user=iris).time_zone == "America/Los_Angeles"
    assert Profile.objects.get(user=sam).time_zone == "Asia/Tokyo"

    anonymous = Client()
    assert anonymous.post("/profile/", {"time_zone": "Asia/Tokyo"}).status_code == 302
    assert Profile.objects.get(user=iris).time_zone == "America/Los_Angeles"


def test_a_change_without_the_csrf_token_is_refused():
    user = _person("sam", time_zone="Europe/Berlin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/profile/", {"time_zone": "Asia/Tokyo"}).status_code == 403
    assert client.post("/profile/browser-time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == (
        403
    )
    assert Profile.objects.get(user=user).time_zone == "Europe/Berlin"


def test_the_browsers_zone_is_stored_only_while_none_is_chosen():
    fresh = _person("fresh", time_zone="")
    chosen = _person("chosen", time_zone="Europe/Berlin")
    no_profile = UserFactory(username="noprofile")

    assert profile_time_zone_default(user=fresh, time_zone="Asia/Tokyo") is True
    assert profile_time_zone_default(user=fresh, time_zone="Europe/Paris") is False
    assert Profile.objects.get(user=fresh).time_zone == "Asia/Tokyo"

    assert profile_time_zone_default(user=chosen, time_zone="Asia/Tokyo") is False
    assert Profile.objects.get(user=chosen).time_zone == "Europe/Berlin"

    assert profile_time_zone_default(user=no_profile, time_zone="Asia/Tokyo") is True
    assert Profile.objects.get(user=no_profile).time_zone == "Asia/Tokyo"

    other = _person("other", time_zone="")
    assert profile_time_zone_default(user=other, time_zone="Not/AZone") is False
    assert Profile.objects.get(user=other).time_zone == ""

    # The person's own choice still wins later.
    profile_time_zone_set(user=fresh, time_zone="America/Los_Angeles")
    assert Profile.objects.get(user=fresh).time_zone == "America/Los_Angeles"
    with pytest.raises(ApplicationError):
        profile_time_zone_set(user=fresh, time_zone="Nowhere/City")


def test_pages_ask_the_browser_for_its_zone_only_until_one_is_known(client):
    user = _person("fresh", time_zone="")
    client.force_login(user)
    html = client.get("/profile/").content.decode()
    assert 'name="browser-time-zone-url" content="/profile/browser-time-zone/"' in html
    assert "js/timezone.js" in html
    assert client.post("/profile/browser-time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == (
        204
    )
    html = client.get("/profile/").content.decode()
    assert "browser-time-zone-url" not in html and "js/timezone.js" not in html
    assert client.get("/api/me/").json()["time_zone"] == "Asia/Tokyo"


def test_the_profile_shows_slack_and_pagerduty_links_read_only(client):
    user = _person("sam", slack_user_id="U0SAM", pagerduty_user_id="PSAM")
    client.force_login(user)
    html = client.get("/incidents/").content.decode()
    assert 'href="/profile/"' in html  # the top bar's user menu
    html = client.get("/profile/").content.decode()
    assert "linked as <code>U0SAM</code>" in html and "linked as <code>PSAM</code>" in html
    assert 'name="slack_user_id"' not in html and 'name="pagerduty_user_id"' not in html

    Profile.objects.filter(user=user).update(slack_invalid_id="U0SAM", pagerduty_user_id="")
    html = client.get("/profile/").content.decode()
    assert "Slack has no user U0SAM (user_not_found)" in html
    assert "you cannot be paged personally" in html
