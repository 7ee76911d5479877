"""RBAC for the console in nexus-production grants exactly the Kubernetes API calls its code
makes: derived from the code (the adapter's methods, which of them each ServiceAccount's code
calls, and the HTTP method and path the kubernetes library sends for each), so a new call fails
these tests until the Role grants it; and checked on the wire against the Kubernetes stand-in.
The in-cluster kubeconfig the cluster-facing workers use is tried with the real client too.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import threading
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.deploy.manifests import (
    REMEDIATED,
    ROOT,
    named,
    of_kind,
    pod_spec,
    queues_of,
    workloads,
)

CLIENT_PACKAGE = "nexusops.integrations.kubernetes"
# Which code runs under which ServiceAccount. Every module that builds a KubernetesClient must
# be listed (test_every_cluster_caller_is_mapped_...).
CLUSTER_CALLERS = {
    "remediation/actions/cluster.py": "nexusops-remediation",
    "deployments/services/gates.py": "nexusops-notifications",
}


# --- RBAC: exactly what the code calls -----------------------------------------------------------
def _client_api_classes(cls: ast.ClassDef) -> dict[str, type]:
    """``self._core = k8s.CoreV1Api(...)`` in ``__init__`` -> {"_core": CoreV1Api}."""
    from kubernetes import client as k8s

    found: dict[str, type] = {}
    inits = [f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"]
    for node in (n for init in inits for n in ast.walk(init)):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr.endswith("Api")
            and node.value.func.attr != "ApiClient"
        ):
            (target,) = node.targets
            found[target.attr] = getattr(k8s, node.value.func.attr)
    return found


@cache
def api_calls_of_client_methods() -> dict[str, frozenset[tuple[type, str]]]:
    """Each KubernetesClient method -> the kubernetes API methods it calls, directly or via
    the client's other methods."""
    from nexusops.integrations.kubernetes import KubernetesClient

    # The client is mixed from one class per resource (pods, rollouts, scaling) over the
    # connection: read every class of the package in its method resolution order.
    classes = [
        ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
        for klass in KubernetesClient.__mro__
        if klass.__module__.startswith(CLIENT_PACKAGE)
    ]
    apis = {k: v for cls in classes for k, v in _client_api_classes(cls).items()}
    assert apis, "no kubernetes API objects found in the client's __init__"
    direct: dict[str, set] = {}
    uses: dict[str, set[str]] = {}
    for fn in (f for cls in classes for f in cls.body):
        if not isinstance(fn, ast.FunctionDef) or fn.name in direct:
            continue  # the most derived definition wins, as at run time
        direct[fn.name], uses[fn.name] = set(), set()
        for node in ast.walk(fn):
            if not isinstance(node, ast.Attribute):
                continue
            inner = node.value
            if isinstance(inner, ast.Name) and inner.id == "self":
                uses[fn.name].add(node.attr)
            elif (
                isinstance(inner, ast.Attribute)
                and isinstance(inner.value, ast.Name)
                and inner.value.id == "self"
                and inner.attr in apis
            ):
                direct[fn.name].add((apis[inner.attr], node.attr))
    closed = {}
    for name in direct:
        seen, todo, calls = {name}, [name], set()
        while todo:
            current = todo.pop()
            calls |= direct[current]
            for other in uses[current] & direct.keys() - seen:
                seen.add(other)
                todo.append(other)
        closed[name] = frozenset(calls)
    return closed


def rbac_rule_of(api: type, method: str) -> tuple[str, str, str]:
    """(apiGroup, resource[/subresource], verb) of one kubernetes-client API method, read from
    the HTTP method and path the library itself sends."""
    source = inspect.getsource(getattr(api, f"_{method}_serialize"))
    http, path = re.search(r"method='(\w+)',\s*resource_path='([^']+)'", source).groups()
    return rbac_rule_of_request(http, path)


def rbac_rule_of_request(http: str, path: str) -> tuple[str, str, str]:
    """The RBAC rule one request needs: ``GET /apis/apps/v1/namespaces/{namespace}/
    deployments/{name}/scale`` -> ("apps", "deployments/scale", "get")."""
    path = path.split("?")[0]
    group_path = re.match(r"/apis?/(?:(?P<group>[^/]+)/)?v\w+/namespaces/[^/]+/(?P<rest>.+)", path)
    assert group_path, f"{http} {path} is not a namespaced call"
    group = group_path["group"] if path.startswith("/apis/") else ""
    parts = group_path["rest"].split("/")
    has_name = len(parts) > 1
    resource = parts[0] + (f"/{parts[2]}" if len(parts) > 2 else "")
    verb = {
        ("GET", True): "get",
        ("GET", False): "list",
        ("PATCH", True): "patch",
        ("PUT", True): "update",
        ("DELETE", True): "delete",
        ("DELETE", False): "deletecollection",
        ("POST", False): "create",
    }[(http, has_name)]
    return group, resource, verb


def adapter_methods_called_by(module: Path) -> set[str]:
    public = {m for m in api_calls_of_client_methods() if not m.startswith("_")}
    tree = ast.parse(module.read_text())
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & public


def needed_rules(service_account: str) -> set[tuple[str, str, str]]:
    calls = api_calls_of_client_methods()
    return {
        rbac_rule_of(api, method)
        for module, account in CLUSTER_CALLERS.items()
        if account == service_account
        for adapter_method in adapter_methods_called_by(ROOT / module)
        for api, method in calls[adapter_method]
    }


def granted_rules(objects, service_account: str) -> set[tuple[str, str, str]]:
    rules = set()
    for binding in of_kind(objects, "RoleBinding"):
        if any(
            s["kind"] == "ServiceAccount" and s["name"] == service_account
            for s in binding["subjects"]
        ):
            assert binding["metadata"]["namespace"] == REMEDIATED
            role = named(objects, "Role", binding["roleRef"]["name"])
            for rule in role["rules"]:
                assert "resourceNames" not in rule or rule["resourceNames"]
                rules |= {
                    (g, r, v)
                    for g in rule["apiGroups"]
                    for r in rule["resources"]
                    for v in rule["verbs"]
                }
    return rules


def test_the_derivation_reads_the_calls_the_runbook_needs():
    # A guard on the derivation itself: kubectl rollout undo and scale, as the runbook does them.
    rules = needed_rules("nexusops-remediation")
    assert ("apps", "deployments", "patch") in rules
    assert ("apps", "deployments/scale", "patch") in rules
    assert ("", "pods/log", "get") in rules
    assert needed_rules("nexusops-notifications") == {("", "pods", "list")}


@pytest.mark.parametrize("service_account", sorted(set(CLUSTER_CALLERS.values())))
def test_rbac_grants_exactly_the_calls_the_code_makes(objects, service_account):
    assert granted_rules(objects, service_account) == needed_rules(service_account)


def test_rbac_is_namespaced_and_only_cluster_callers_hold_a_token(objects):
    assert of_kind(objects, "ClusterRole") == of_kind(objects, "ClusterRoleBinding") == []
    for role in of_kind(objects, "Role"):
        assert role["metadata"]["namespace"] == REMEDIATED
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
            assert "secrets" not in rule["resources"]
    callers = set(CLUSTER_CALLERS.values())
    for workload in workloads(objects):
        spec = pod_spec(workload)
        account = spec.get("serviceAccountName", "default")
        assert spec.get("automountServiceAccountToken") is (account in callers), workload[
            "metadata"
        ]["name"]


def test_every_cluster_caller_is_mapped_to_the_account_its_queue_runs_under(objects):
    from deployments.services.gates import POST_CHECKS
    from nexusops.engine import outbox

    users = {
        str(p.relative_to(ROOT))
        for folder in (
            "nexusops",
            "incidents",
            "remediation",
            "postmortems",
            "deployments",
            "alerts",
        )
        for p in (ROOT / folder).rglob("*.py")
        if "KubernetesClient" in p.read_text()
        and "integrations/kubernetes" not in str(p)
        and "standins" not in str(p)
    }
    assert users == set(CLUSTER_CALLERS)
    # Which queue each caller's work arrives on, from the code's own routing.
    queue_of = {
        "remediation/actions/cluster.py": settings.CELERY_TASK_ROUTES[
            "remediation.tasks.action_run_task"
        ]["queue"],
        "deployments/services/gates.py": outbox.sender(POST_CHECKS).queue,
    }
    assert outbox.sender("remediation.preview").queue == queue_of["remediation/actions/cluster.py"]
    for module, account in CLUSTER_CALLERS.items():
        consumers = [d for d in of_kind(objects, "Deployment") if queue_of[module] in queues_of(d)]
        assert [pod_spec(d)["serviceAccountName"] for d in consumers] == [account], module


# --- in-cluster access ------------------------------------------------------------------------
def test_the_in_cluster_kubeconfig_calls_the_api_with_the_mounted_token(
    production, tmp_path, settings
):
    """The workers' KUBECONFIG, as rendered, through the real client over HTTP: the token is
    read from the file the kubelet mounts (paths moved to tmp_path, server to the stand-in)."""
    from deployments.services import gates
    from nexusops.integrations.errors import VendorRejected
    from nexusops.integrations.kubernetes import KubernetesClient
    from nexusops.standins import kubernetes as k8s_standin
    from remediation.actions import cluster

    (config_map,) = [
        c
        for c in of_kind(production, "ConfigMap")
        if c["metadata"]["name"].startswith("nexusops-kubeconfig")
    ]
    kubeconfig = yaml.safe_load(config_map["data"]["config"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://kubernetes.default.svc"
    assert kubeconfig["contexts"][0]["context"]["namespace"] == REMEDIATED
    mounted = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert kubeconfig["users"][0]["user"]["tokenFile"] == f"{mounted}/token"

    server, url = k8s_standin.make_server(token="projected-sa-token")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "token").write_text("projected-sa-token")
        (tmp_path / "ca.crt").write_text("")
        kubeconfig["clusters"][0]["cluster"]["server"] = url
        kubeconfig["users"][0]["user"]["tokenFile"] = str(tmp_path / "token")
        kubeconfig["clusters"][0]["cluster"]["certificate-authority"] = str(tmp_path / "ca.crt")
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(kubeconfig))
        settings.KUBERNETES_API_URL = ""
        settings.KUBERNETES_TOKEN = ""
        settings.KUBECONFIG = str(path)
        settings.KUBERNETES_NAMESPACE = REMEDIATED
        assert cluster._k8s_missing() == ""
        assert gates.kubernetes_enabled()  # the post-deploy pod check is on with it alone
        assert KubernetesClient.from_settings().list_pods() is not None
        (tmp_path / "token").write_text("someone-else")
        with pytest.raises(VendorRejected):
            KubernetesClient.from_settings().list_pods()
    finally:
        server.shutdown()
        server.server_close()


def test_the_rbac_covers_every_request_the_remediation_actions_send(production, settings):
    """The same rules, seen from the wire: every cluster call remediation makes, against the
    Kubernetes stand-in, and the rule each recorded request needs."""
    from nexusops.integrations.kubernetes import KubernetesClient
    from nexusops.standins import kubernetes as k8s_standin

    server, url = k8s_standin.make_server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        k8s = KubernetesClient(api_url=url, namespace=REMEDIATED)
        pod = k8s.list_pods("app=notification-service")[0].name  # no rollout touches it
        calls = {
            "list_pods": lambda: k8s.list_pods("app=api-gateway"),
            "pod_events": lambda: k8s.pod_events(pod),
            "deployment_logs": lambda: k8s.deployment_logs("api-gateway", tail_lines=5),
            "rollout_history": lambda: k8s.rollout_history("api-gateway"),
            "rollout_undo": lambda: k8s.rollout_undo("api-gateway"),
            "rollout_restart": lambda: k8s.rollout_restart("auth-service"),
            "scale": lambda: k8s.scale("api-gateway", 3),
            "get_hpa": lambda: k8s.get_hpa("api-gateway"),
            "patch_hpa": lambda: k8s.patch_hpa("api-gateway", max_replicas=21, target_cpu=60),
            "delete_pod": lambda: k8s.delete_pod(pod),
        }
        used = adapter_methods_called_by(ROOT / "remediation/actions/cluster.py")
        assert set(calls) == used - {"from_settings"}
        for call in calls.values():
            call()
        sent = {rbac_rule_of_request(r["method"], r["path"]) for r in server.cluster.requests}
    finally:
        server.shutdown()
        server.server_close()
    assert sent == granted_rules(production, "nexusops-remediation")
