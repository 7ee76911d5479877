"""Approval rules, expiry, validation before any call and unconfigured adapters (no worker).

Dry runs and runs are called in-process here (``action_preview`` / ``action_execute``) against
the stand-ins over real HTTP; the worker path is in ``test_actions_worker.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import TimelineEvent
from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError
from nexusops.engine.timers import timers_sweep
from remediation.models import ActionRun
from remediation.services import (
    action_approve,
    action_execute,
    action_preview,
    action_refuse,
    action_request,
)
from tests.factories import UserFactory, incident

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
State = ActionRun.State


@pytest.fixture
def people():
    return {
        "ic": UserFactory(username="ic-a", role=roles.INCIDENT_COMMANDER),
        "ic2": UserFactory(username="ic-b", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="mgr-a", role=roles.MANAGER),
        "responder": UserFactory(username="resp-a", role=roles.RESPONDER),
        "stakeholder": UserFactory(username="stake-a", role=roles.STAKEHOLDER),
    }


def _undo(people, inc, **params):
    run = action_request(
        action="k8s.rollout_undo",
        params={"deployment": "api-gateway", **params},
        actor=people["ic"],
        incident=inc,
    )
    action_preview(run_id=run.pk)
    return ActionRun.objects.get(pk=run.pk)


def test_dangerous_request_shows_a_dry_run_and_changes_nothing(
    remediation_settings, people, k8s_standin
):
    inc = incident()
    run = _undo(people, inc)
    assert run.state == State.AWAITING_APPROVAL and run.dangerous
    assert "Roll api-gateway back from revision 19 to revision 18" in run.preview
    assert "v2.13.1" in run.preview  # the image of the previous revision, in the diff
    assert k8s_standin.requests("PATCH") == []
    events = TimelineEvent.objects.filter(incident=inc, kind__startswith="remediation")
    assert [e.kind for e in events.order_by("id")] == [
        "remediation_requested",
        "remediation_preview",
    ]
    assert all(e.visibility == TimelineEvent.Visibility.INTERNAL for e in events)


def test_self_approval_and_wrong_roles_are_refused(remediation_settings, people):
    inc = incident()
    run = _undo(people, inc)
    with pytest.raises(PermissionDeniedError, match="your own request") as exc:
        action_approve(run=run, actor=people["ic"])
    assert exc.value.code == "self_approval"
    for who in ("responder", "stakeholder"):
        with pytest.raises(PermissionDeniedError):
            action_approve(run=run, actor=people[who])
    assert ActionRun.objects.get(pk=run.pk).state == State.AWAITING_APPROVAL

    action_approve(run=run, actor=people["ic2"])
    run.refresh_from_db()
    assert run.state == State.QUEUED and run.decided_by == people["ic2"]
    with pytest.raises(Conflict):
        action_approve(run=run, actor=people["manager"])
    assert "remediation_approved" in TimelineEvent.objects.filter(incident=inc).values_list(
        "kind", flat=True
    )


def test_refusal_and_withdrawal_are_on_the_timeline(remediation_settings, people):
    inc = incident()
    refused = _undo(people, inc)
    action_refuse(run=refused, actor=people["manager"], note="not a deploy problem")
    withdrawn = _undo(people, inc)
    action_refuse(run=withdrawn, actor=people["ic"])
    assert ActionRun.objects.get(pk=refused.pk).state == State.REFUSED
    assert ActionRun.objects.get(pk=withdrawn.pk).decided_by is None
    messages = list(
        TimelineEvent.objects.filter(incident=inc, kind="remediation_refused").values_list(
            "message", flat=True
        )
    )
    assert any("not a deploy problem" in m for m in messages)
    assert any(m.startswith("withdrew") for m in messages)


def test_approval_expires(remediation_settings, people, settings):
    settings.APPROVAL_TTL_MINUTES = 10
    inc = incident()
    start = clock.now()
    with clock.frozen(start) as frozen:
        late = _undo(people, inc)
        swept = _undo(people, inc)
        frozen.advance(minutes=11)
        with pytest.raises(Conflict, match="approval window"):
            action_approve(run=late, actor=people["ic2"])
        assert timers_sweep() >= 1
    assert ActionRun.objects.get(pk=late.pk).state == State.EXPIRED
    assert ActionRun.objects.get(pk=swept.pk).state == State.EXPIRED
    assert TimelineEvent.objects.filter(incident=inc, kind="remediation_expired").count() == 2


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("k8s.logs", {"deployment": "API_Gateway"}, "deployment"),
        ("k8s.logs", {"deployment": "api-gateway", "tail_lines": 0}, "tail_lines"),
        ("k8s.pod_events", {"pod": "bad/../name"}, "pod"),
        ("k8s.scale", {"deployment": "user-service", "replicas": 5000}, "replicas"),
        ("k8s.scale", {"deployment": "user-service", "replicas": "ten"}, "replicas"),
        ("k8s.rollout_undo", {"deployment": "api-gateway", "to_revision": -1}, "to_revision"),
        ("argocd.set_revision", {"app": "Nexus Platform", "revision": "abc"}, "app"),
        ("aws.rds_pitr", {"target": "x", "restore_time": "2999-01-01T00:00Z"}, "restore_time"),
        ("redis.info", {"section": "everything"}, "section"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    remediation_settings, people, k8s_standin, action, params, field
):
    with pytest.raises(ApplicationError) as exc:
        action_request(action=action, params=params, actor=people["ic"], incident=incident())
    assert field in exc.value.fields
    assert ActionRun.objects.count() == 0
    assert k8s_standin.requests() == []


def test_range_checks_that_need_the_cluster_fail_clearly(remediation_settings, people, k8s_standin):
    inc = incident()
    missing = _undo(people, inc, to_revision=3)
    assert missing.state == State.REJECTED
    assert "has no revision 3 (known: 17, 18, 19)" in missing.error
    run = action_request(
        action="k8s.scale", params={"deployment": "user-service", "replicas": 40},
        actor=people["ic"], incident=inc,
    )  # fmt: skip
    action_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == State.FAILED and "outside the HPA bounds" in run.error
    assert k8s_standin.requests("PATCH") == []


def test_who_may_request(remediation_settings, people):
    inc = incident()
    with pytest.raises(PermissionDeniedError):
        action_request(action="k8s.pods", params={}, actor=people["stakeholder"], incident=inc)
    with pytest.raises(PermissionDeniedError):
        action_request(
            action="k8s.rollout_restart", params={"deployment": "api-gateway"},
            actor=people["responder"], incident=inc,
        )  # fmt: skip
    assert action_request(action="k8s.pods", params={}, actor=people["responder"], incident=inc)
    with pytest.raises(PermissionDeniedError, match="outside an incident"):
        action_request(action="k8s.pods", params={}, actor=people["ic"])
    assert action_request(action="k8s.pods", params={}, actor=people["manager"]).incident is None


def test_an_unconfigured_adapter_says_so(settings, people):
    settings.KUBERNETES_API_URL = ""
    settings.KUBECONFIG = ""
    settings.REMEDIATION_REDIS_URL = ""
    inc = incident()
    with pytest.raises(
        ApplicationError, match="not configured: set KUBERNETES_API_URL or KUBECONFIG"
    ):
        action_request(action="k8s.pods", params={}, actor=people["ic"], incident=inc)
    with pytest.raises(ApplicationError, match="REMEDIATION_REDIS_URL"):
        action_request(action="redis.ping", params={}, actor=people["ic"], incident=inc)
    assert ActionRun.objects.count() == 0


def test_a_run_past_its_deadline_is_reported_timed_out(remediation_settings, people):
    from nexusops.engine.models import Timer

    inc = incident()
    start = clock.now()
    with clock.frozen(start) as frozen:
        run = action_request(action="k8s.pods", params={}, actor=people["ic"], incident=inc)
        # The worker claimed it and then hung: what action_execute writes before the call.
        run.state, run.started_at = State.RUNNING, start
        run.deadline_at = start + dt.timedelta(seconds=120)
        run.save()
        Timer.objects.create(
            incident=inc, kind="remediation_deadline", due_at=run.deadline_at, data={"run": run.pk}
        )
        frozen.advance(seconds=121)
        timers_sweep()
    run.refresh_from_db()
    assert run.state == State.TIMED_OUT and "no result within 120 s" in run.error
    assert TimelineEvent.objects.filter(incident=inc, kind="remediation_timed_out").exists()


def test_a_run_whose_worker_died_is_not_started_again(remediation_settings, people, settings):
    """A dangerous action that is not safe to repeat fails with the reason when its lease
    runs out; a read-only one is queued again (issue 12 item 5)."""
    from remediation.services.dispatch import action_runs_relay

    settings.REMEDIATION_REDISPATCH_SECONDS = 3600  # only the dead runs concern this test
    inc = incident()
    restart = action_request(
        action="k8s.rollout_restart", params={"deployment": "api-gateway"}, actor=people["ic"],
        incident=inc,
    )  # fmt: skip
    pods = action_request(action="k8s.pods", params={}, actor=people["ic"], incident=inc)
    past = clock.now() - dt.timedelta(seconds=1)
    for run in (restart, pods):
        ActionRun.objects.filter(pk=run.pk).update(
            state=State.RUNNING, started_at=past, attempts=1, lease_expires_at=past,
            heartbeat_at=past - dt.timedelta(seconds=20),
        )  # fmt: skip
    # A lease still running is left alone.
    alive = action_request(action="k8s.pods", params={}, actor=people["ic"], incident=inc)
    ActionRun.objects.filter(pk=alive.pk).update(
        state=State.RUNNING, attempts=1, lease_expires_at=clock.now() + dt.timedelta(minutes=1)
    )
    assert action_runs_relay() == {"redispatched": 0, "restarted": 1, "failed": 1}
    restart.refresh_from_db()
    assert restart.state == State.FAILED
    assert "not safe to repeat automatically" in restart.error
    assert "check the target's state" in restart.error
    pods.refresh_from_db()
    assert pods.state == State.QUEUED and pods.attempts == 1
    assert ActionRun.objects.get(pk=alive.pk).state == State.RUNNING
    assert TimelineEvent.objects.filter(incident=inc, kind="remediation_requeued").count() == 1
    # The re-queued run then runs as its second attempt.
    action_execute(run_id=pods.pk)
    pods.refresh_from_db()
    assert pods.state == State.SUCCEEDED and pods.attempts == 2


def test_a_second_delivery_of_a_running_run_does_nothing(remediation_settings, people):
    inc = incident()
    run = action_request(action="k8s.pods", params={}, actor=people["ic"], incident=inc)
    ActionRun.objects.filter(pk=run.pk).update(state=State.RUNNING, attempts=1)
    assert action_execute(run_id=run.pk) == {"state": State.RUNNING}
    assert ActionRun.objects.get(pk=run.pk).attempts == 1
