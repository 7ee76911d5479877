"""The Kubernetes adapter with the real ``kubernetes`` client against the stand-in API server."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable
from nexusops.integrations.kubernetes import KubernetesClient
from nexusops.integrations.kubernetes.errors import (
    DeploymentPaused,
    InvalidName,
    InvalidRequest,
    RevisionNotFound,
    ScaleOutOfBounds,
)

NS = "nexus-production"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"


def _objects(standin, plural: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in standin.state()["objects"][plural]}


def _replicaset_of_revision(standin, deployment: str, revision: int) -> dict:
    return next(
        rs
        for rs in _objects(standin, "replicasets").values()
        if rs["metadata"]["ownerReferences"][0]["name"] == deployment
        and rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == str(revision)
    )


def _without_hash(template: dict) -> dict:
    labels = {k: v for k, v in template["metadata"]["labels"].items() if k != "pod-template-hash"}
    return {**template, "metadata": {**template["metadata"], "labels": labels}}


def test_list_pods_with_a_selector(k8s, k8s_standin):
    pods = k8s.list_pods({"app": "api-gateway"})

    assert len(pods) == 3
    assert {p.labels["app"] for p in pods} == {"api-gateway"}
    crashing = [p for p in pods if p.status == "CrashLoopBackOff"]
    assert len(crashing) == 1 and not crashing[0].ready and crashing[0].restarts == 14
    sent = k8s_standin.requests("GET", "/pods")[-1]
    assert sent["query"]["labelSelector"] == "app=api-gateway" and sent["authorized"]
    assert len(k8s.list_pods("app in (api-gateway,auth-service)")) == 6
    assert len(k8s.list_pods()) == 18


def test_pod_events_show_the_back_off(k8s):
    pod = next(p for p in k8s.list_pods("app=api-gateway") if p.status == "CrashLoopBackOff")

    events = k8s.pod_events(pod.name)

    assert {"Scheduled", "Started", "BackOff"} <= {e.reason for e in events}
    back_off = next(e for e in events if e.reason == "BackOff")
    assert back_off.type == "Warning" and pod.name in back_off.message


def test_deployment_logs_are_the_tail_of_every_pod(k8s, k8s_standin):
    logs = k8s.deployment_logs("api-gateway", tail_lines=5)

    assert len(logs) == 3
    assert all(0 < len(text.splitlines()) <= 5 for text in logs.values())
    assert any("startup aborted" in text for text in logs.values())
    assert all(r["query"]["tailLines"] == "5" for r in k8s_standin.requests("GET", "/log"))


def test_rollout_history_comes_from_the_owned_replicasets(k8s):
    history = k8s.rollout_history("user-service")

    assert [r.revision for r in history] == [40, 41, 42, 43]
    assert [r.current for r in history] == [False, False, False, True]
    assert len({r.images for r in history}) == 4
    assert history[-1].images == ("registry.nexus.internal/nexus/user-service:v3.10.0",)


@pytest.mark.parametrize(("to_revision", "expected"), [(None, 42), (40, 40)])
def test_rollout_undo_restores_the_replicaset_template(k8s, k8s_standin, to_revision, expected):
    chosen = _replicaset_of_revision(k8s_standin, "user-service", expected)

    result = k8s.rollout_undo("user-service", to_revision=to_revision)

    assert (result.to_revision, result.from_revision, result.skipped) == (expected, 43, False)
    deployment = _objects(k8s_standin, "deployments")["user-service"]
    assert deployment["spec"]["template"] == _without_hash(chosen["spec"]["template"])
    assert "pod-template-hash" not in deployment["spec"]["template"]["metadata"]["labels"]
    # The controller re-used that ReplicaSet and gave it the next revision.
    assert result.new_revision == 44
    history = k8s.rollout_history("user-service")
    assert 44 in [r.revision for r in history] and expected not in [r.revision for r in history]
    assert next(r for r in history if r.current).replicaset == chosen["metadata"]["name"]
    patch = k8s_standin.requests("PATCH", DEPLOYMENTS)
    assert [p["content_type"] for p in patch] == ["application/json-patch+json"]


def test_rollout_undo_dry_run_previews_and_changes_nothing(k8s, k8s_standin):
    result = k8s.rollout_undo("user-service", to_revision=41, dry_run=True)

    assert result.dry_run and not result.skipped
    image = "registry.nexus.internal/nexus/user-service"
    assert f'-        "image": "{image}:v3.10.0"' in result.diff
    assert f'+        "image": "{image}:v3.9.0"' in result.diff
    assert k8s_standin.requests("PATCH") == []
    assert [r.revision for r in k8s.rollout_history("user-service")] == [40, 41, 42, 43]


def test_rollout_undo_of_a_paused_deployment_is_refused(k8s, k8s_standin):
    requests.patch(
        f"{k8s_standin.url}{DEPLOYMENTS}/user-service",
        json={"spec": {"paused": True}},
        headers={
            "Content-Type": "application/merge-patch+json",
            "Authorization": "Bearer k8s-test-token",
        },
        timeout=5,
    )

    with pytest.raises(DeploymentPaused, match="paused"):
        k8s.rollout_undo("user-service")

    assert len(k8s_standin.requests("PATCH")) == 1  # only the arranging one


def test_rollout_undo_to_an_unknown_revision_is_refused(k8s, k8s_standin):
    with pytest.raises(RevisionNotFound, match="no revision 7 .*40, 41, 42, 43"):
        k8s.rollout_undo("user-service", to_revision=7)

    assert k8s_standin.requests("PATCH") == []


def test_rollout_restart_sets_restarted_at(k8s, k8s_standin):
    result = k8s.rollout_restart("auth-service")

    template = _objects(k8s_standin, "deployments")["auth-service"]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == result["restarted_at"]
    assert [r.revision for r in k8s.rollout_history("auth-service")][-1] == 11
    sent = k8s_standin.requests("PATCH", DEPLOYMENTS)
    assert sent[0]["content_type"] == "application/strategic-merge-patch+json"


def test_scale_within_the_hpa_bounds(k8s, k8s_standin):
    result = k8s.scale("user-service", 10)

    assert (result.previous, result.replicas) == (3, 10)
    assert (result.min_replicas, result.max_replicas) == (2, 20)
    assert _objects(k8s_standin, "deployments")["user-service"]["spec"]["replicas"] == 10
    assert len(k8s.list_pods("app=user-service")) == 10
    assert k8s_standin.requests("PATCH", "/scale")[0]["content_type"] == (
        "application/merge-patch+json"
    )


@pytest.mark.parametrize("replicas", [25, 1, 0])
def test_scale_beyond_the_hpa_bounds_needs_an_override(k8s, k8s_standin, replicas):
    with pytest.raises(ScaleOutOfBounds, match="2-20"):
        k8s.scale("user-service", replicas)
    assert k8s_standin.requests("PATCH") == []

    result = k8s.scale("user-service", replicas, override_reason="INC-20260101-001 traffic spike")

    assert result.override_reason == "INC-20260101-001 traffic spike"
    assert _objects(k8s_standin, "deployments")["user-service"]["spec"]["replicas"] == replicas


def test_scale_rejects_nonsense_before_any_request(k8s, k8s_standin):
    for replicas, reason in ((-1, None), (True, None), (5, "   ")):
        with pytest.raises(InvalidRequest):
            k8s.scale("user-service", replicas, override_reason=reason)
    assert k8s_standin.requests() == []


def test_get_and_patch_hpa(k8s, k8s_standin):
    assert k8s.get_hpa("api-gateway").target_cpu == 70

    hpa = k8s.patch_hpa("api-gateway", min_replicas=4, max_replicas=30, target_cpu=60)

    assert (hpa.min_replicas, hpa.max_replicas, hpa.target_cpu) == (4, 30, 60)
    spec = _objects(k8s_standin, "horizontalpodautoscalers")["api-gateway"]["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (4, 30)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    with pytest.raises(InvalidRequest, match="min_replicas"):
        k8s.patch_hpa("api-gateway", min_replicas=40)
    assert len(k8s_standin.requests("PATCH")) == 1


def test_delete_pod_lets_the_replicaset_replace_it(k8s, k8s_standin):
    crashing = next(
        p for p in k8s.list_pods("app=notification-service") if p.status == "CrashLoopBackOff"
    )

    assert k8s.delete_pod(crashing.name) == {"pod": crashing.name, "deleted": True}

    pods = k8s.list_pods("app=notification-service")
    assert crashing.name not in {p.name for p in pods} and len(pods) == 3
    assert k8s_standin.requests("DELETE")[0]["path"].endswith(f"/pods/{crashing.name}")


@pytest.mark.parametrize(
    "name",
    [
        "User-Service",
        "user_service",
        "../kube-system",
        "-api",
        "api-",
        "",
        "a" * 254,
        "api gateway",
        "api-gateway;rm",
    ],
)
def test_bad_names_are_refused_before_any_request(k8s, k8s_standin, name):
    calls = [
        lambda: k8s.delete_pod(name),
        lambda: k8s.pod_events(name),
        lambda: k8s.rollout_undo(name),
        lambda: k8s.rollout_restart(name),
        lambda: k8s.scale(name, 3),
        lambda: k8s.deployment_logs(name),
        lambda: k8s.rollout_history(name),
        lambda: k8s.get_hpa(name),
    ]
    for call in calls:
        with pytest.raises(InvalidName):
            call()
    with pytest.raises(InvalidName):
        k8s.list_pods({"app": "bad value"})
    with pytest.raises(InvalidName):
        KubernetesClient(api_url=k8s_standin.url, namespace="Nexus_Production")

    assert k8s_standin.requests() == []


def test_unreachable_api_server_fails_fast(closed_port):
    client = KubernetesClient(api_url=f"http://127.0.0.1:{closed_port}", token="t")
    started = time.monotonic()

    with pytest.raises(VendorUnavailable, match="cannot reach the Kubernetes API"):
        client.list_pods()

    assert time.monotonic() - started < 2


def test_silent_api_server_times_out():
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        client = KubernetesClient(api_url=f"http://127.0.0.1:{port}", read_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(VendorUnavailable, match="timed out"):
            client.rollout_history("user-service")
        assert time.monotonic() - started < 2


def test_not_configured_without_settings(settings):
    settings.KUBERNETES_API_URL = ""
    settings.KUBECONFIG = ""
    with pytest.raises(NotConfigured):
        KubernetesClient.from_settings()


def test_wrong_token_is_rejected(k8s_standin):
    k8s_standin.reset()
    client = KubernetesClient(api_url=k8s_standin.url, token="wrong")
    with pytest.raises(VendorRejected) as caught:
        client.list_pods()
    assert caught.value.status == 401


def test_undo_to_the_current_template_is_skipped(k8s, k8s_standin):
    result = k8s.rollout_undo("user-service", to_revision=43)

    assert result.skipped and result.diff == ""
    assert k8s_standin.requests("PATCH") == []


def test_kubeconfig_is_an_alternative_to_url_and_token(k8s_standin, settings, tmp_path):
    k8s_standin.reset()
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "standin", "cluster": {"server": k8s_standin.url}}],
                "users": [{"name": "nexusops", "user": {"token": "k8s-test-token"}}],
                "contexts": [
                    {"name": "standin", "context": {"cluster": "standin", "user": "nexusops"}}
                ],
                "current-context": "standin",
            }
        )
    )
    settings.KUBERNETES_API_URL = ""
    settings.KUBECONFIG = str(kubeconfig)

    client = KubernetesClient.from_settings()

    assert len(client.list_pods("app=billing-service")) == 3
    assert k8s_standin.requests("GET", "/pods")[-1]["authorized"]
    settings.KUBECONFIG = str(tmp_path / "missing")
    with pytest.raises(NotConfigured, match="KUBECONFIG"):
        KubernetesClient.from_settings()
