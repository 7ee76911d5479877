"""Kubernetes and ArgoCD actions (runbook 1.4, 2.3, 3.1, Appendix A)."""

from __future__ import annotations

import json
from dataclasses import asdict

from nexusops.integrations.argocd import ArgoCDClient
from nexusops.integrations.kubernetes import KubernetesClient

from . import (
    REMEDIATION,
    ActionFailed,
    ActionSpec,
    Outcome,
    Param,
    Preview,
    Progress,
    register,
    text_table,
)
from .config import missing


def _k8s_missing() -> str:
    return missing(any_of=("KUBERNETES_API_URL", "KUBECONFIG"))


def _argocd_missing() -> str:
    return missing("ARGOCD_URL", "ARGOCD_TOKEN")


def _k8s() -> KubernetesClient:
    return KubernetesClient.from_settings()


DEPLOYMENT = Param("deployment", "Deployment", "dns1123", default="api-gateway")
POD = Param("pod", "Pod", "dns1123")


def _pods(params: dict, progress: Progress) -> Outcome:
    pods = _k8s().list_pods(params.get("selector") or None)
    rows = [
        {
            "name": p.name,
            "ready": p.ready_containers,
            "status": p.status,
            "restarts": p.restarts,
            "node": p.node,
        }
        for p in pods
    ]
    troubled = [p.name for p in pods if not p.ready or p.restarts]
    summary = f"{len(pods)} pods, {len(troubled)} not ready or restarting"
    return Outcome(
        summary, text_table(rows, ["name", "ready", "status", "restarts", "node"]), {"pods": rows}
    )


def _events(params: dict, progress: Progress) -> Outcome:
    events = _k8s().pod_events(params["pod"])
    rows = [asdict(e) for e in events]
    table = text_table(rows, ["type", "reason", "count", "last_seen", "message"])
    return Outcome(f"{len(events)} events for pod {params['pod']}", table, {"events": rows})


def _logs(params: dict, progress: Progress) -> Outcome:
    logs = _k8s().deployment_logs(params["deployment"], tail_lines=params["tail_lines"])
    text = "\n".join(f"==> {pod} <==\n{body.rstrip()}\n" for pod, body in sorted(logs.items()))
    lines = sum(body.count("\n") for body in logs.values())
    return Outcome(f"{lines} log lines from {len(logs)} pods of {params['deployment']}", text)


def _history(params: dict, progress: Progress) -> Outcome:
    revisions = _k8s().rollout_history(params["deployment"])
    rows = [
        {
            "revision": r.revision,
            "replicaset": r.replicaset,
            "images": ", ".join(r.images),
            "current": "*" if r.current else "",
            "change_cause": r.change_cause,
        }
        for r in revisions
    ]
    current = next((r.revision for r in revisions if r.current), None)
    return Outcome(
        f"{len(rows)} revisions of {params['deployment']}, current {current}",
        text_table(rows, ["revision", "replicaset", "images", "current", "change_cause"]),
        {"revisions": rows},
    )


def _undo_preview(params: dict) -> Preview:
    k8s, name = _k8s(), params["deployment"]
    plan = k8s.rollout_undo(name, params.get("to_revision"), dry_run=True)
    target = next(r for r in k8s.rollout_history(name) if r.revision == plan.to_revision)
    # What the approver sees, by id: the run rolls back to exactly this ReplicaSet and images.
    pinned = {
        "from_revision": plan.from_revision,
        "to_revision": plan.to_revision,
        "replicaset": plan.replicaset,
        "images": list(target.images),
    }
    if plan.skipped:
        return Preview(
            f"{plan.deployment} already runs revision {plan.to_revision}'s template: no change.",
            pinned,
        )
    return Preview(
        f"Roll {plan.deployment} back from revision {plan.from_revision} to revision "
        f"{plan.to_revision} (ReplicaSet {plan.replicaset}, images "
        f"{', '.join(target.images)}):\n{plan.diff}",
        pinned,
    )


def _undo_pinned(name: str, pinned: dict) -> Outcome | None:
    """Check the cluster still holds what was approved; an Outcome when it is already done."""
    history = _k8s().rollout_history(name)
    current = next((r for r in history if r.current), None)
    if current is not None and current.replicaset == pinned["replicaset"]:
        # Rolled back already (an earlier attempt whose worker died): Kubernetes renumbers the
        # restored ReplicaSet, so compare ReplicaSets, not revision numbers.
        return Outcome(
            f"{name} already runs {pinned['replicaset']} (images {', '.join(current.images)}),"
            f" the approved revision {pinned['to_revision']}: skipped",
            data={"deployment": name, "skipped": True, **pinned},
        )
    now = current.revision if current else None
    if now != pinned["from_revision"]:
        raise ActionFailed(
            f"{name} moved from revision {pinned['from_revision']} to {now} since the dry run; "
            "nothing was changed. Request the rollback again to see what it would do now."
        )
    target = next((r for r in history if r.revision == pinned["to_revision"]), None)
    if target is None or target.replicaset != pinned["replicaset"]:
        raise ActionFailed(
            f"revision {pinned['to_revision']} of {name} ({pinned['replicaset']}), the one "
            "approved in the dry run, no longer exists; nothing was changed."
        )
    if list(target.images) != list(pinned["images"]):
        raise ActionFailed(
            f"revision {pinned['to_revision']} of {name} now runs {', '.join(target.images)}, "
            f"not the approved {', '.join(pinned['images'])}; nothing was changed."
        )
    return None


def _undo(params: dict, progress: Progress) -> Outcome:
    name, to_revision = params["deployment"], params.get("to_revision")
    pinned = params.get("pinned") or {}
    if pinned:
        progress(15, "checking the approved revision is still there")
        done_already = _undo_pinned(name, pinned)
        if done_already is not None:
            return done_already
        to_revision = pinned["to_revision"]
    progress(30, "patching the deployment's template")
    done = _k8s().rollout_undo(name, to_revision)
    if done.skipped:
        return Outcome(f"{done.deployment} already at revision {done.to_revision}: skipped")
    data = {k: v for k, v in asdict(done).items() if k != "template"}
    return Outcome(
        f"rolled {done.deployment} back to revision {done.to_revision} ({done.replicaset})",
        done.diff,
        data,
    )


def _restart(params: dict, progress: Progress) -> Outcome:
    done = _k8s().rollout_restart(params["deployment"])
    return Outcome(f"restarted {done['deployment']} at {done['restarted_at']}", data=done)


def _scale_dangerous(params: dict) -> bool:
    return params.get("replicas") == 0


def _scale_preview(params: dict) -> str:
    k8s, name = _k8s(), params["deployment"]
    pods = [p for p in k8s.list_pods() if p.name.startswith(f"{name}-")]
    return f"Scale {name} from {len(pods)} pods to {params['replicas']} replicas." + (
        f" Override: {params['override_reason']}" if params.get("override_reason") else ""
    )


def _scale(params: dict, progress: Progress) -> Outcome:
    done = _k8s().scale(params["deployment"], params["replicas"], params.get("override_reason"))
    bounds = (
        f" (HPA {done.min_replicas}-{done.max_replicas})" if done.max_replicas is not None else ""
    )
    return Outcome(
        f"scaled {done.deployment} from {done.previous} to {done.replicas}{bounds}",
        data=asdict(done),
    )


def _hpa(params: dict, progress: Progress) -> Outcome:
    hpa = _k8s().get_hpa(params["deployment"])
    return Outcome(
        f"HPA {hpa.name}: {hpa.min_replicas}-{hpa.max_replicas} replicas, target CPU "
        f"{hpa.target_cpu}%, now {hpa.current_replicas} at {hpa.current_cpu}%",
        json.dumps(asdict(hpa), indent=2),
        asdict(hpa),
    )


def _hpa_patch(params: dict, progress: Progress) -> Outcome:
    hpa = _k8s().patch_hpa(
        params["deployment"],
        min_replicas=params.get("min_replicas"),
        max_replicas=params.get("max_replicas"),
        target_cpu=params.get("target_cpu"),
    )
    return Outcome(
        f"HPA {hpa.name} now {hpa.min_replicas}-{hpa.max_replicas}, target CPU {hpa.target_cpu}%",
        json.dumps(asdict(hpa), indent=2),
        asdict(hpa),
    )


def _delete_preview(params: dict) -> str:
    pod = next((p for p in _k8s().list_pods() if p.name == params["pod"]), None)
    if pod is None:
        return f"Pod {params['pod']} does not exist (any more): nothing would be deleted."
    return (
        f"Delete pod {pod.name} ({pod.status}, {pod.restarts} restarts, node {pod.node}); "
        "its ReplicaSet starts a replacement."
    )


def _delete(params: dict, progress: Progress) -> Outcome:
    done = _k8s().delete_pod(params["pod"])
    return Outcome(f"deleted pod {done['pod']}", data=done)


def _argocd_preview(params: dict) -> Preview:
    app = ArgoCDClient.from_settings().get_app(params["app"])
    return Preview(
        f"Set {app.name}'s target revision from {app.target_revision} to {params['revision']} "
        f"and sync (now {app.sync_status}, {app.health}).",
        {"from_revision": app.target_revision, "revision": params["revision"]},
    )


def _argocd(params: dict, progress: Progress) -> Outcome:
    argo, app = ArgoCDClient.from_settings(), params["app"]
    pinned = params.get("pinned") or {}
    if pinned:
        now = argo.get_app(app).target_revision
        # The target already set to the approved revision is an earlier attempt of this run.
        if now not in (pinned["from_revision"], pinned["revision"]):
            raise ActionFailed(
                f"{app}'s target revision moved from {pinned['from_revision']} to {now} since "
                "the dry run; nothing was changed. Request it again to see what it would do now."
            )
    progress(20, f"setting the target revision of {app}")
    argo.set_target_revision(app, params["revision"])
    progress(40, f"syncing {app}")
    argo.sync(app, params["revision"])
    progress(60, "following the sync operation")
    result = argo.wait_for_operation(app, timeout=240)
    data = asdict(result)
    text = json.dumps(data, indent=2)
    if not result.succeeded:
        raise ActionFailed(f"sync of {app} ended {result.phase}: {result.message}", text)
    return Outcome(f"{app} synced to {params['revision']}: {result.message}", text, data)


REVISION = Param("to_revision", "Revision", "int", required=False, min=1, max=1_000_000)
for spec in (
    ActionSpec(
        "k8s.pods", "List pods", "kubernetes", _pods, _k8s_missing,
        params=(Param("selector", "Label selector", required=False, help="e.g. app=api-gateway"),),
        description="kubectl get pods -n nexus-production",
    ),
    ActionSpec(
        "k8s.pod_events", "Describe a pod's events", "kubernetes", _events, _k8s_missing,
        params=(POD,), description="kubectl describe pod <pod>",
    ),
    ActionSpec(
        "k8s.logs", "Tail a deployment's logs", "kubernetes", _logs, _k8s_missing,
        params=(DEPLOYMENT, Param("tail_lines", "Lines", "int", default=100, min=1, max=10_000)),
        description="kubectl logs deployment/<name> --tail=N",
    ),
    ActionSpec(
        "k8s.rollout_history", "Rollout history", "kubernetes", _history, _k8s_missing,
        params=(DEPLOYMENT,), description="kubectl rollout history deployment/<name>",
    ),
    ActionSpec(
        "k8s.rollout_undo", "Roll back a deployment", "kubernetes", _undo, _k8s_missing,
        params=(DEPLOYMENT, REVISION), permission=REMEDIATION, dangerous=True,
        preview=_undo_preview, idempotent=True,  # pinned: a repeat finds it done and skips
        description="kubectl rollout undo deployment/<name> [--to-revision=N]; "
        "empty revision: the previous one",
    ),
    ActionSpec(
        "k8s.rollout_restart", "Restart a deployment", "kubernetes", _restart, _k8s_missing,
        params=(DEPLOYMENT,), permission=REMEDIATION,
        description="kubectl rollout restart deployment/<name>",
    ),
    ActionSpec(
        "k8s.scale", "Scale a deployment", "kubernetes", _scale, _k8s_missing,
        params=(
            DEPLOYMENT,
            Param("replicas", "Replicas", "int", min=0, max=500),
            Param("override_reason", "Reason to go beyond the HPA bounds", required=False),
        ),
        permission=REMEDIATION, dangerous=_scale_dangerous, preview=_scale_preview,
        idempotent=True,
        description="kubectl scale deployment/<name> --replicas=N (within the HPA bounds "
        "unless a reason is given; 0 needs approval)",
    ),
    ActionSpec(
        "k8s.hpa", "Read an HPA", "kubernetes", _hpa, _k8s_missing,
        params=(DEPLOYMENT,), description="kubectl get hpa",
    ),
    ActionSpec(
        "k8s.hpa_patch", "Change an HPA", "kubernetes", _hpa_patch, _k8s_missing,
        params=(
            DEPLOYMENT,
            Param("min_replicas", "Min replicas", "int", required=False, min=1, max=500),
            Param("max_replicas", "Max replicas", "int", required=False, min=1, max=500),
            Param("target_cpu", "Target CPU %", "int", required=False, min=1, max=100),
        ),
        permission=REMEDIATION, description="Runbook 3.1: min, max and target CPU",
        idempotent=True,
    ),
    ActionSpec(
        "k8s.delete_pod", "Delete a crashed pod", "kubernetes", _delete, _k8s_missing,
        params=(POD,), permission=REMEDIATION, dangerous=True, preview=_delete_preview,
        description="kubectl delete pod <pod>",
    ),
    ActionSpec(
        "argocd.set_revision", "Set an ArgoCD app's revision and sync", "argocd", _argocd,
        _argocd_missing,
        params=(
            Param("app", "Application", "dns1123", default="nexus-platform"),
            Param("revision", "Git revision", max_length=255),
        ),
        permission=REMEDIATION, dangerous=True, preview=_argocd_preview, timeout_seconds=300,
        idempotent=True,  # the same revision set and synced again
        description="argocd app set <app> --revision <sha>; argocd app sync <app>",
    ),
):  # fmt: skip
    register(spec)
