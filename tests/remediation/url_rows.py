"""Role/URL matrix rows for runbooks and remediation (tests/test_url_matrix.py).

Runbook pages and run results are for the roles that see incident internals (not
Stakeholders). Requests need the action's permission; approving needs ``approve_remediation``
(IC, Manager) and someone other than the requester; attaching a scenario is for those who drive.
"""

from __future__ import annotations

from nexusops.common import clock
from remediation.models import ActionRun, IncidentScenario, Scenario, ScenarioStep
from tests.factories import UserFactory, incident
from tests.support.urlmatrix import ANON, DRIVERS, SIGNED_IN, WRITERS, Row, page


def _write(ok, **kw) -> Row:  # noqa: ANN001 - a tuple of roles
    return Row({ANON: 302, **{r: (302 if r in ok else 403) for r in SIGNED_IN}}, **kw)


def _scenario() -> Scenario:
    scenario, _ = Scenario.objects.get_or_create(
        slug="platform-down", defaults={"title": "Platform down"}
    )
    return scenario


def _run(state=ActionRun.State.AWAITING_APPROVAL) -> ActionRun:
    requester = UserFactory(username="matrix-requester")
    now = clock.now()
    return ActionRun.objects.create(
        action="k8s.rollout_undo", params={"deployment": "api-gateway"}, dangerous=True,
        incident=incident(), state=state, requested_by=requester, requested_at=now,
        output="line\n" * 3,
    )  # fmt: skip


def _awaiting() -> ActionRun:
    import datetime as dt

    run = _run()
    run.approval_expires_at = clock.now() + dt.timedelta(minutes=30)
    run.save()
    return run


def _step() -> dict:
    inc = incident()
    scenario = _scenario()
    IncidentScenario.objects.get_or_create(
        incident=inc, scenario=scenario, defaults={"attached_at": clock.now()}
    )
    step = ScenarioStep.objects.create(
        scenario=scenario, kind="diagnosis", text="Check pods", action="k8s.pods"
    )
    return {"number": inc.number, "step": step.pk}


ROWS: dict[str, Row] = {
    "runbook-list": page(ok=WRITERS),
    "runbook-detail": page(ok=WRITERS, kwargs=lambda: {"slug": _scenario().slug}),
    "remediation-run-request": _write(
        WRITERS, method="post",
        data=lambda: {"incident": incident().number, "action": "k8s.pods"},
    ),
    "remediation-run-detail": page(ok=WRITERS, kwargs=lambda: {"pk": _run().pk}),
    "remediation-run-output": page(ok=WRITERS, kwargs=lambda: {"pk": _run().pk}),
    "remediation-run-approve": _write(
        DRIVERS, method="post", kwargs=lambda: {"pk": _awaiting().pk}, data=lambda: {}
    ),
    "remediation-run-refuse": _write(
        DRIVERS, method="post", kwargs=lambda: {"pk": _awaiting().pk}, data=lambda: {"note": "no"}
    ),
    "remediation-incident-panel": page(ok=WRITERS, kwargs=lambda: {"number": incident().number}),
    "remediation-scenario-attach": _write(
        DRIVERS, method="post", kwargs=lambda: {"number": incident().number},
        data=lambda: {"scenario": _scenario().slug},
    ),
    "remediation-step-set": _write(
        WRITERS, method="post", kwargs=_step, data=lambda: {"done": "on"}
    ),
}  # fmt: skip
