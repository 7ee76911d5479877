"""Deployments' rollouts: ``kubectl rollout history``, ``rollout undo`` and ``rollout restart``.

Runbook 1.4 and 3.1. Reads ask for the raw JSON, so the pod template copied back on undo is
exactly what the API server stored.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass

from nexusops.common import clock

from .connection import JSON_PATCH, STRATEGIC, Connection, selector_string
from .errors import DeploymentPaused, InvalidRequest, RevisionNotFound

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Deployment annotations kubectl keeps from the deployment (not the ReplicaSet) on undo.
_ANNOTATIONS_TO_SKIP = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    f"{REVISION}-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}


@dataclass(frozen=True)
class Revision:
    revision: int
    replicaset: str
    images: tuple[str, ...]
    change_cause: str
    created: str | None
    current: bool


@dataclass(frozen=True)
class UndoResult:
    deployment: str
    from_revision: int | None
    to_revision: int
    replicaset: str
    dry_run: bool
    skipped: bool
    diff: str  # unified diff of the pod template, current -> target
    template: dict
    new_revision: int | None = None  # as the API server answered; its controller may lag


def _revision_of(obj: dict) -> int:
    try:
        return int(obj["metadata"].get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
    return clean


class RolloutOperations(Connection):
    def _owned_replicasets(self, deployment: dict) -> list[dict]:
        """The deployment's ReplicaSets, oldest revision first (as kubectl finds them)."""
        name, uid = deployment["metadata"]["name"], deployment["metadata"]["uid"]
        found = self._json(
            f"listing replica sets of {name}",
            self._apps.list_namespaced_replica_set,
            self.namespace,
            label_selector=selector_string(deployment["spec"]["selector"]),
        )
        owned = [
            rs
            for rs in found.get("items", [])
            if any(
                ref.get("uid") == uid and ref.get("controller")
                for ref in rs["metadata"].get("ownerReferences", [])
            )
        ]
        return sorted(owned, key=_revision_of)

    def rollout_history(self, deployment: str) -> list[Revision]:
        """``kubectl rollout history deployment/<name>``: one entry per owned ReplicaSet."""
        current = self._deployment(deployment)
        current_template = _without_hash(current["spec"]["template"])
        return [
            Revision(
                revision=_revision_of(rs),
                replicaset=rs["metadata"]["name"],
                images=tuple(
                    c.get("image", "") for c in rs["spec"]["template"]["spec"]["containers"]
                ),
                change_cause=rs["metadata"]
                .get("annotations", {})
                .get("kubernetes.io/change-cause", ""),
                created=rs["metadata"].get("creationTimestamp"),
                current=_without_hash(rs["spec"]["template"]) == current_template,
            )
            for rs in self._owned_replicasets(current)
        ]

    def rollout_undo(
        self, deployment: str, to_revision: int | None = None, dry_run: bool = False
    ) -> UndoResult:
        """``kubectl rollout undo deployment/<name> [--to-revision=N]``, done the way kubectl does.

        The owned ReplicaSet of the revision (the previous one when ``to_revision`` is None)
        gives its pod template, minus the ``pod-template-hash`` label, and its annotations; one
        JSON patch writes both into the deployment. The patch tests ``resourceVersion`` first,
        so a deployment changed since it was read is not overwritten. ``dry_run`` sends nothing
        and returns the template diff as a preview.
        """
        if to_revision is not None and (not isinstance(to_revision, int) or to_revision < 0):
            raise InvalidRequest("to_revision must be a positive revision number")
        current = self._deployment(deployment)
        if current["spec"].get("paused"):
            raise DeploymentPaused(
                f"deployment {deployment} is paused; resume it before rolling back"
            )
        owned = self._owned_replicasets(current)
        if not to_revision:
            if len(owned) < 2:
                raise RevisionNotFound(f"deployment {deployment} has no previous revision")
            target = owned[-2]
        else:
            found = next((rs for rs in owned if _revision_of(rs) == to_revision), None)
            if found is None:
                known = ", ".join(str(_revision_of(rs)) for rs in owned) or "none"
                raise RevisionNotFound(
                    f"deployment {deployment} has no revision {to_revision} (known: {known})"
                )
            target = found
        template = _without_hash(target["spec"]["template"])
        before = json.dumps(current["spec"]["template"], indent=2, sort_keys=True).splitlines()
        after = json.dumps(template, indent=2, sort_keys=True).splitlines()
        diff = "\n".join(
            difflib.unified_diff(
                before, after, "current", f"revision {_revision_of(target)}", lineterm=""
            )
        )
        result = dict(
            deployment=deployment,
            from_revision=_revision_of(current) or None,
            to_revision=_revision_of(target),
            replicaset=target["metadata"]["name"],
            dry_run=dry_run,
            diff=diff,
            template=template,
        )
        if template == _without_hash(current["spec"]["template"]):
            return UndoResult(**result, skipped=True)
        if dry_run:
            return UndoResult(**result, skipped=False)
        old_notes = current["metadata"].get("annotations") or {}
        annotations = {k: v for k, v in old_notes.items() if k in _ANNOTATIONS_TO_SKIP}
        annotations.update(
            {
                k: v
                for k, v in (target["metadata"].get("annotations") or {}).items()
                if k not in _ANNOTATIONS_TO_SKIP
            }
        )
        patch = [
            {
                "op": "test",
                "path": "/metadata/resourceVersion",
                "value": current["metadata"]["resourceVersion"],
            },
            {"op": "replace", "path": "/spec/template", "value": template},
            {
                "op": "replace" if "annotations" in current["metadata"] else "add",
                "path": "/metadata/annotations",
                "value": annotations,
            },
        ]
        patched = self._json(
            f"rolling back deployment {deployment}",
            self._apps.patch_namespaced_deployment,
            deployment,
            self.namespace,
            patch,
            _content_type=JSON_PATCH,
        )
        return UndoResult(**result, skipped=False, new_revision=_revision_of(patched) or None)

    def rollout_restart(self, deployment: str) -> dict[str, str]:
        """``kubectl rollout restart``: a new ``restartedAt`` template annotation rolls the pods."""
        current = self._deployment(deployment)
        if current["spec"].get("paused"):
            raise DeploymentPaused(
                f"deployment {deployment} is paused; resume it before restarting"
            )
        restarted_at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}}
        self._json(
            f"restarting deployment {deployment}",
            self._apps.patch_namespaced_deployment,
            deployment,
            self.namespace,
            patch,
            _content_type=STRATEGIC,
        )
        return {"deployment": deployment, "restarted_at": restarted_at}
