"""A run longer than the global soft time limit completes in its own task (issue 12 item 5).

The worker runs Celery's prefork pool (solo ignores time limits) with a global soft limit of
3 s, as a test stand-in for the 540 s that cut real backups off. The ArgoCD stand-in takes 8 s
to finish a sync. While the run works its lease is renewed, and the relay, called as beat
would, never takes it for dead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from nexusops.common import roles
from nexusops.standins import argocd as argocd_server
from remediation.models import ActionRun
from remediation.services import action_approve, action_request
from remediation.services.dispatch import action_runs_relay
from tests.factories import UserFactory, incident
from tests.remediation_integrations.conftest import ARGOCD_TOKEN, Standin, _serve
from tests.support.worker import WorkerProcess

from .conftest import _await, _env
from .helpers import settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State
SYNC_SECONDS = 8
LEASE_SECONDS = 3


def slow_argocd() -> Iterator[Standin]:
    """An ArgoCD stand-in of its own whose every sync takes SYNC_SECONDS."""
    server, url = argocd_server.make_server(token=ARGOCD_TOKEN, operation_seconds=SYNC_SECONDS)
    thread = _serve(server)
    yield Standin(url)
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def argocd_standin() -> Iterator[Standin]:
    """This module's ArgoCD is the slow one (the name overrides the shared fixture)."""
    yield from slow_argocd()


@pytest.fixture(scope="module")
def short_limits() -> Iterator[dict[str, str]]:
    """A global soft limit of 3 s, here and in the worker.

    Celery writes the sender's global limits into each message, so the web side (this
    process) must have them too, as the real web and worker processes share settings.
    """
    from nexusops.celery import app

    before = (app.conf.task_soft_time_limit, app.conf.task_time_limit)
    app.conf.task_soft_time_limit, app.conf.task_time_limit = 3, 5
    yield {"CELERY_TASK_SOFT_TIME_LIMIT": "3", "CELERY_TASK_TIME_LIMIT": "5"}
    app.conf.task_soft_time_limit, app.conf.task_time_limit = before


@pytest.fixture(scope="module")
def short_limit_worker(
    django_db_setup, django_db_blocker, k8s_standin, argocd_standin, moto_url, checks_db,
    short_limits,
) -> Iterator[WorkerProcess]:  # fmt: skip
    env = _env(k8s_standin, argocd_standin, moto_url, checks_db)
    env.update(short_limits, REMEDIATION_LEASE_SECONDS=str(LEASE_SECONDS))
    worker = WorkerProcess(queues="default,remediation", extra_env=env, pool="prefork").start()
    try:
        with django_db_blocker.unblock():
            _await(worker)
        yield worker
    finally:
        worker.stop()


def test_a_sync_longer_than_the_global_soft_limit_completes_and_keeps_its_lease(
    short_limit_worker, remediation_settings, argocd_standin
):
    remediation_settings.REMEDIATION_LEASE_SECONDS = LEASE_SECONDS
    remediation_settings.REMEDIATION_REDISPATCH_SECONDS = 3600
    ic = UserFactory(username="ic-t", role=roles.INCIDENT_COMMANDER)
    manager = UserFactory(username="mgr-t", role=roles.MANAGER)
    run = action_request(
        action="argocd.set_revision", params={"app": "nexus-platform", "revision": "v2.13.1"},
        actor=ic, incident=incident(),
    )  # fmt: skip
    run = settle(run, State.AWAITING_APPROVAL, State.REJECTED)
    assert run.state == State.AWAITING_APPROVAL, run.error
    action_approve(run=run, actor=manager)

    leases, relayed = set(), []
    stop_at = time.monotonic() + 90
    while time.monotonic() < stop_at:
        row = ActionRun.objects.filter(pk=run.pk).values().get()
        if row["state"] not in ActionRun.ACTIVE:
            break
        if row["state"] == State.RUNNING:
            leases.add(row["lease_expires_at"])
        relayed.append(action_runs_relay())
        time.sleep(0.5)

    run.refresh_from_db()
    assert run.state == State.SUCCEEDED, (run.error, short_limit_worker.log_tail())
    assert "synced to v2.13.1" in run.summary
    # Longer than the global soft limit, so it could only finish under its own limit.
    assert (run.finished_at - run.started_at).total_seconds() >= SYNC_SECONDS - 1
    assert len(leases) >= 3, leases  # renewed while it worked
    assert run.attempts == 1
    assert all(r == {"redispatched": 0, "restarted": 0, "failed": 0} for r in relayed), relayed
    assert len(argocd_standin.requests("POST", "/sync")) == 1
