"""Runbook 1.3 hotfix rules, and bad input that must change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from deployments.models import Deployment, DeploymentCheck, Kind
from deployments.services import deployment_incident_link
from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from postmortems.models import PostMortem
from tests.factories import incident

from .helpers import SHA, record

pytestmark = pytest.mark.django_db


def test_hotfix_needs_the_label(world):
    with pytest.raises(ApplicationError) as exc:
        record(world["responder"], kind="hotfix", labels=["bug"])
    assert "HOTFIX" in exc.value.message and "labels" in exc.value.fields
    assert not Deployment.objects.exists()


def test_hotfix_needs_a_reviewer(world):
    with pytest.raises(ApplicationError) as exc:
        record(world["responder"], kind="hotfix", labels=["HOTFIX"], reviewers=[])
    assert "reviewers" in exc.value.fields
    assert not Deployment.objects.exists()


def test_hotfix_bypasses_the_window_and_schedules_a_postmortem(world):
    inc = incident(services=("user-service",), severity_code="P2")
    d = record(world["responder"], kind="hotfix", labels=["hotfix"], incident=inc)
    assert d.kind == Kind.HOTFIX
    window = DeploymentCheck.objects.get(deployment=d, key="maintenance_window")
    assert window.done and "hotfix" in window.note
    pm = PostMortem.objects.get(incident=inc)
    assert pm.required and d.number in pm.reason


def test_hotfix_without_incident_opens_postmortem_when_linked(world):
    d = record(world["responder"], kind="hotfix", labels=["HOTFIX"])
    assert d.postmortem_needed
    inc = incident(services=("user-service",), severity_code="P3")
    deployment_incident_link(deployment=d, incident=inc, actor=world["responder"])
    assert PostMortem.objects.filter(incident=inc, required=True).exists()
    assert not Deployment.objects.get(pk=d.pk).postmortem_needed


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"services": ["no-such-service"]}, "services"),
        ({"git_sha": "not-hex-at-all"}, "git_sha"),
        ({"git_sha": "abc"}, "git_sha"),
        ({"status": "succeeded", "started_at": dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC),
          "finished_at": dt.datetime(2026, 1, 2, 9, tzinfo=dt.UTC)}, "finished_at"),
        ({"environment": "moon"}, "environment"),
        ({"kind": "rollback"}, "kind"),
        ({"pr_url": "javascript:alert(1)"}, "pr_url"),
        ({"version": ""}, "version"),
    ],
)  # fmt: skip
def test_bad_input_saves_nothing(world, kwargs, field):
    with clock.frozen(dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC)):
        with pytest.raises(ApplicationError) as exc:
            record(world["responder"], **kwargs)
    assert field in exc.value.fields
    assert not Deployment.objects.exists()
    assert not DeploymentCheck.objects.exists()


def test_sha_is_normalised(world):
    assert record(world["responder"], git_sha=SHA.upper()).git_sha == SHA
