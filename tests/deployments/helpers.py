from __future__ import annotations

from deployments.models import Deployment, DeploymentCheck
from deployments.services import deployment_record

SHA = "3f2c9e1d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
PREV = "1111111111111111111111111111111111111111"


def record(actor=None, **kw) -> Deployment:
    args = {
        "services": ["user-service"], "version": "v3.10.1", "git_sha": SHA,
        "previous_sha": PREV, "reviewers": ["alice"],
        "ci": {"tests_passed": True, "security_scan": "passed"},
    }  # fmt: skip
    args.update(kw)
    return deployment_record(actor=actor, **args)


def open_items(d: Deployment) -> set[str]:
    return set(
        DeploymentCheck.objects.filter(deployment=d, required=True, done_at=None).values_list(
            "key", flat=True
        )
    )
