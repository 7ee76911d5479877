"""The console's template helpers: times in the viewer's zone, badges, the navigation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from incidents.models import Profile
from nexusops.common import clock, navigation, roles
from tests.factories import incident

LA = "America/Los_Angeles"
WINTER = dt.datetime(2025, 1, 15, 17, 30, tzinfo=dt.UTC)  # 09:30 PST
SUMMER = dt.datetime(2025, 7, 1, 12, 0, 5, tzinfo=dt.UTC)  # 05:00 PDT


def render(source: str, **context) -> str:
    return Template("{% load console %}" + source).render(Context(context))


# --- times ------------------------------------------------------------------------------


def test_localtime_tag_shows_pst_in_winter_with_utc_on_hover():
    with timezone.override(LA):
        html = render("{{ t|localtime_tag }}", t=WINTER)
    assert html == (
        '<time datetime="2025-01-15T17:30:00Z" title="2025-01-15 17:30:00 UTC">'
        "2025-01-15 09:30 PST</time>"
    )


def test_when_tag_shows_pdt_in_summer():
    with timezone.override(LA):
        html = render("{% when t %}", t=SUMMER)
    assert html == (
        '<time datetime="2025-07-01T12:00:05Z" title="2025-07-01 12:00:05 UTC">'
        "2025-07-01 05:00 PDT</time>"
    )


def test_other_zones_and_utc_itself():
    with timezone.override("Europe/Berlin"):
        assert ">2025-01-15 18:30 CET</time>" in render("{% when t %}", t=WINTER)
    with timezone.override("UTC"):
        assert ">2025-01-15 17:30 UTC</time>" in render("{% when t %}", t=WINTER)


def test_a_time_stored_in_another_offset_is_shown_as_the_same_instant():
    tokyo = WINTER.astimezone(dt.timezone(dt.timedelta(hours=9)))
    with timezone.override(LA):
        html = render("{% when t %}", t=tokyo)
    assert 'datetime="2025-01-15T17:30:00Z"' in html
    assert ">2025-01-15 09:30 PST<" in html


def test_a_naive_time_is_taken_as_utc():
    with timezone.override(LA):
        html = render("{% when t %}", t=WINTER.replace(tzinfo=None))
    assert 'title="2025-01-15 17:30:00 UTC"' in html
    assert "09:30 PST" in html


def test_a_custom_format():
    with timezone.override(LA):
        html = render('{% when t "%H:%M %Z" %} {{ t|localtime_tag:"%d %b" }}', t=WINTER)
    assert ">09:30 PST</time>" in html
    assert ">15 Jan</time>" in html


def test_empty_values_render_nothing_and_text_is_escaped():
    assert render("[{% when t %}][{{ t|localtime_tag }}][{% ago t %}]", t=None) == "[][][]"
    assert render("{% when t %}", t="<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def test_ago_is_relative_to_the_clock():
    with clock.frozen(WINTER), timezone.override(LA):
        past = render("{% ago t %}", t=WINTER - dt.timedelta(hours=1, minutes=30))
        future = render("{% ago t %}", t=WINTER + dt.timedelta(minutes=20))
        recent = render("{% ago t %}", t=WINTER - dt.timedelta(seconds=20))
        coarse = render("{% ago t 1 %}", t=WINTER - dt.timedelta(hours=1, minutes=30))
    assert ">1\xa0hour, 30\xa0minutes ago</time>" in past
    assert 'title="2025-01-15 16:00:00 UTC"' in past
    assert ">in 20\xa0minutes</time>" in future
    assert ">just now</time>" in recent
    assert ">1\xa0hour ago</time>" in coarse


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(minutes=15), "15 min"),
        (dt.timedelta(hours=1), "1 h"),
        (dt.timedelta(hours=1, minutes=30), "1 h 30 min"),
        (dt.timedelta(hours=24), "24 h"),
        (dt.timedelta(days=3), "3 d"),
        (dt.timedelta(seconds=30), "30 s"),
    ],
)
def test_duration(delta, text):
    assert render("{{ d|duration }}", d=delta) == text


def test_severity_badge_takes_a_code_or_a_row():
    assert render("{% severity_badge 'P0' %}") == ('<span class="badge sev-P0" title="">P0</span>')

    class Row:
        code, name = "P2", "Minor"

    assert render("{% severity_badge s %}", s=Row()) == (
        '<span class="badge sev-P2" title="Minor">P2</span>'
    )


@pytest.mark.django_db
def test_the_signed_in_users_zone_is_used_for_every_page(client, django_user_model):
    roles.roles_sync()
    user = django_user_model.objects.create_user("iris", password="pw-for-tests-only")
    user.groups.add(Group.objects.get(name=roles.INCIDENT_COMMANDER))
    Profile.objects.create(user=user, time_zone=LA)
    client.force_login(user)
    for at in (SUMMER, WINTER):
        with clock.frozen(at):
            incident(title=f"detected {at:%B}")
    html = client.get("/incidents/").content.decode()
    assert '<time datetime="2025-07-01T12:00:05Z" title="2025-07-01 12:00:05 UTC">' in html
    assert "2025-07-01 05:00 PDT</time>" in html
    assert "2025-01-15 09:30 PST</time>" in html


# --- navigation -------------------------------------------------------------------------


@pytest.fixture
def registry():
    saved = dict(navigation._entries)
    yield navigation
    navigation._entries.clear()
    navigation._entries.update(saved)


def _items(path: str, user) -> dict[str, navigation.NavItem]:  # noqa: ANN001
    request = RequestFactory().get(path)
    request.user = user
    return {item.key: item for item in navigation.nav_items(request)}


@pytest.mark.django_db
def test_nav_links_what_exists_and_disables_what_is_planned(registry, django_user_model):
    user = django_user_model.objects.create_user("ravi")
    registry.unregister("runbooks")  # as if that app were not built yet
    items = _items("/services/", user)
    assert items["incidents"].url == "/incidents/" and not items["incidents"].active
    assert items["services"].url == "/services/" and items["services"].active
    assert items["api-docs"].url == "/api/docs/"
    assert items["status"].url == "/status/"
    assert items["deployments"].url == "/deployments/"
    assert not items["runbooks"].available
    assert "admin" not in items  # staff only
    planned = {label for _, label, _ in navigation.PLANNED}
    labels = [
        i.label for i in navigation.nav_items(RequestFactory().get("/")) if i.label in planned
    ]
    assert labels == [
        "Incidents",
        "Deployments",
        "On-call",
        "Runbooks",
        "Post-mortems",
        "Status page",
    ]  # Reports is listed only for users who may view reports


@pytest.mark.django_db
def test_a_section_is_active_on_its_own_pages_only(django_user_model):
    user = django_user_model.objects.create_user("maya", is_staff=True)
    assert _items("/incidents/", user)["incidents"].active
    items = _items("/admin/incidents/", user)
    assert items["admin"].active and not items["incidents"].active


@pytest.mark.django_db
def test_registering_replaces_and_an_unresolvable_url_is_disabled(registry, django_user_model):
    user = django_user_model.objects.create_user("sam")
    registry.register("deployments", "Deployments", "no-such-page", 20)
    registry.register("incidents", "Incidents", "service-list", 10)
    registry.register("reports", "Reports", "home", 60, permission="incidents.view_nothing")
    items = _items("/", user)
    assert not items["deployments"].available
    assert items["incidents"].url == "/services/"
    assert "reports" not in items  # hidden from a user without the permission
    with pytest.raises(ValueError):
        registry.register("x", "X", "home", 1, section="sidebar")


@pytest.mark.django_db
def test_nav_menu_renders_disabled_entries_with_a_reason(registry, django_user_model):
    registry.unregister("deployments")
    user = django_user_model.objects.create_user("ada", is_staff=True)
    request = RequestFactory().get("/incidents/")
    request.user = user
    html = render("{% nav_menu %}", request=request)
    assert '<a href="/incidents/" class="active" aria-current="page">Incidents</a>' in html
    assert (
        '<span class="disabled" aria-disabled="true" title="not available yet">Deployments</span>'
        in html
    )
    assert '<a href="/admin/">Admin</a>' in html
