"""A worker dies in the middle of a run (issue 12 item 5): its lease runs out, the relay
starts the run again because the action is safe to repeat, and another worker finishes it."""

from __future__ import annotations

import pytest

from incidents.models import TimelineEvent
from nexusops.common import roles
from remediation.models import ActionRun
from remediation.services import action_approve, action_request
from remediation.services.dispatch import action_runs_relay
from tests.factories import UserFactory, incident
from tests.support.worker import WorkerProcess, wait_for

from .conftest import _await, _env
from .helpers import settle
from .test_run_task import slow_argocd

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State
LEASE_SECONDS = 2


@pytest.fixture(scope="module")
def argocd_standin():
    """This module's ArgoCD is the slow one (8 s syncs), so the kill lands mid-run."""
    yield from slow_argocd()


def test_a_run_whose_worker_was_killed_runs_again_when_safe_to_repeat(
    remediation_settings,
    k8s_standin,
    argocd_standin,
    moto_url,
    checks_db,  # noqa: F811
):
    remediation_settings.REMEDIATION_LEASE_SECONDS = LEASE_SECONDS
    remediation_settings.REMEDIATION_REDISPATCH_SECONDS = 3600
    env = _env(k8s_standin, argocd_standin, moto_url, checks_db)
    env["REMEDIATION_LEASE_SECONDS"] = str(LEASE_SECONDS)
    ic = UserFactory(username="ic-k", role=roles.INCIDENT_COMMANDER)
    manager = UserFactory(username="mgr-k", role=roles.MANAGER)
    inc = incident()
    first = WorkerProcess(queues="default,remediation", extra_env=env).start()
    second = WorkerProcess(queues="default,remediation", extra_env=env)
    try:
        _await(first)
        run = action_request(
            action="argocd.set_revision", params={"app": "nexus-platform", "revision": "v2.13.1"},
            actor=ic, incident=inc,
        )  # fmt: skip
        run = settle(run, State.AWAITING_APPROVAL, State.REJECTED)
        action_approve(run=run, actor=manager)
        settle(run, State.RUNNING)
        first.kill()  # SIGKILL mid-sync: no result, no more heartbeats

        assert action_runs_relay()["restarted"] == 0  # its lease is still running
        wait_for(lambda: action_runs_relay()["restarted"] == 1, timeout=LEASE_SECONDS * 5,
                 message="the relay to notice the dead worker")  # fmt: skip
        assert ActionRun.objects.get(pk=run.pk).state == State.QUEUED

        second.start()
        run = settle(run, timeout=60)
    finally:
        first.kill()
        second.stop()
    assert run.state == State.SUCCEEDED, (run.error, second.log_tail())
    assert run.attempts == 2
    requeued = TimelineEvent.objects.get(incident=inc, kind="remediation_requeued")
    assert "safe to repeat, so it runs again (attempt 2 of 3)" in requeued.message
