"""Issue 18: Slack and PagerDuty links from the e-mail claim (real clients against the
stand-ins, and once through a real worker after a real sign-in), and the command that
deactivates accounts not seen for N days."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from accounts.models import SsoIdentity
from accounts.services.links import profile_links_fill
from accounts.services.sso import sso_sign_in
from incidents.models import Profile
from nexusops.common import clock, roles
from nexusops.common.roles import roles_sync
from nexusops.standins import demo
from tests.factories import UserFactory
from tests.support.idp_fixtures import console_path, idp_sign_in
from tests.support.worker import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db


def claims(username: str, *groups: str, email: str = "") -> dict:
    return {
        "sub": f"sub-{username}",
        "email": email or f"{username}@nexus.example",
        "email_verified": True,
        "preferred_username": username,
        "groups": list(groups),
    }


def test_links_are_found_by_email_at_slack_and_pagerduty(slack, pagerduty):
    casey = sso_sign_in(provider="nexus", claims=claims("casey", "nexus-responders")).user

    outcome = profile_links_fill(user_id=casey.pk)

    profile = Profile.objects.get(user=casey)
    assert profile.slack_user_id == demo.slack_user_id("casey")
    assert profile.pagerduty_user_id == "PCASEY"
    assert outcome == {"slack": f"linked {profile.slack_user_id}", "pagerduty": "linked PCASEY"}
    assert any(r["path"].endswith("users.lookupByEmail") for r in slack.received())
    assert any(r["path"] == "/users" for r in pagerduty.received())


def test_a_typed_link_is_kept_and_an_unknown_email_is_said(slack, pagerduty):
    user = sso_sign_in(provider="nexus", claims=claims("zed", email="zed@elsewhere.example")).user
    Profile.objects.filter(user=user).update(pagerduty_user_id="PTYPED")

    outcome = profile_links_fill(user_id=user.pk)

    profile = Profile.objects.get(user=user)
    assert profile.pagerduty_user_id == "PTYPED" and profile.slack_user_id == ""
    assert outcome["slack"] == "no Slack user has the e-mail zed@elsewhere.example"
    assert profile.slack_email_unmatched_at is not None
    assert outcome["pagerduty"] == "already PTYPED"


def test_with_the_vendors_off_nothing_is_asked(settings):
    settings.SLACK_API_URL = settings.PAGERDUTY_API_URL = settings.PAGERDUTY_EVENTS_URL = ""
    user = sso_sign_in(provider="nexus", claims=claims("casey")).user
    assert profile_links_fill(user_id=user.pk) == {
        "slack": "Slack is not configured",
        "pagerduty": "the PagerDuty REST API is not configured",
    }


def test_stale_sso_accounts_are_deactivated_and_no_others(capsys):
    start = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    with clock.frozen(start) as frozen:
        sso_sign_in(provider="nexus", claims=claims("old", "nexus-responders"))
        frozen.advance(days=50)
        sso_sign_in(provider="nexus", claims=claims("recent", "nexus-responders"))
        frozen.advance(days=45)
        UserFactory(username="ci-bot", role=roles.RESPONDER)  # password-only, never SSO
        root = sso_sign_in(provider="nexus", claims=claims("root")).user
        root.is_superuser = True
        root.save()
        SsoIdentity.objects.filter(user=root).update(last_seen_at=start)

        call_command("sso_deactivate_stale", "--days", "90", "--dry-run")
        assert "would deactivate 1: old" in capsys.readouterr().out
        assert get_user_model().objects.get(username="old").is_active

        call_command("sso_deactivate_stale", "--days", "90")

    active = dict(get_user_model().objects.values_list("username", "is_active"))
    assert active == {"old": False, "recent": True, "ci-bot": True, "root": True}
    assert "deactivated 1: old" in capsys.readouterr().out


@pytest.fixture
def links_worker(slack, pagerduty, transactional_db):
    worker = WorkerProcess(extra_env={**slack.env, **pagerduty.env}).start()
    try:
        worker.await_ready()
        yield worker
    finally:
        worker.stop()


def test_first_sign_in_links_slack_and_pagerduty_through_the_worker(
    client, nexus_sso, links_worker
):
    roles_sync()  # the flush between transactional tests removes the role groups
    callback = idp_sign_in(client.get("/accounts/sso/nexus/login/")["Location"], "rory")
    assert client.get(console_path(callback)).status_code == 302

    profile = wait_for(
        lambda: (
            Profile.objects.filter(user__username="rory")
            .exclude(slack_user_id="")
            .exclude(pagerduty_user_id="")
            .first()
        ),
        message="the worker to link rory's Slack and PagerDuty users",
    )
    assert (profile.slack_user_id, profile.pagerduty_user_id) == (
        demo.slack_user_id("rory"),
        "PRORY",
    )


@pytest.mark.postgres
def test_two_first_sign_ins_at_once_make_one_account(transactional_db):
    roles_sync()
    barrier = threading.Barrier(2)
    results: list[object] = []

    def sign_in_once() -> None:
        barrier.wait()
        try:
            results.append(sso_sign_in(provider="nexus", claims=claims("twin", "nexus-responders")))
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert all(not isinstance(r, Exception) for r in results), results
    assert {r.user.pk for r in results} == {get_user_model().objects.get(username="twin").pk}
    assert SsoIdentity.objects.filter(subject="sub-twin").count() == 1
