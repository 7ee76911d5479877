"""The Kubernetes manifests (deploy/kubernetes): rendered with ``kubectl kustomize``, every
object valid against the Kubernetes schemas, and the invariants the schemas cannot see: one
beat, a worker per Celery queue, probes on views that exist, and RBAC that grants exactly the
API calls the code makes (derived here from the code, so a new call fails this test until the
Role grants it).

``scripts/ci_manifests.sh`` runs the same rendering and schema check in CI before the suite.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
TARGETS = ("base", "overlays/production")
# The oldest Kubernetes these manifests support, and the newest kubernetes-validate bundles.
K8S_VERSIONS = ("1.30", "1.37")
CLIENT = ROOT / "nexusops" / "integrations" / "kubernetes" / "client.py"
REMEDIATED = "nexus-production"
# Which code runs under which ServiceAccount, and on which Celery queue its pods consume.
# Every module that builds a KubernetesClient must be listed (test_every_cluster_caller_...).
CLUSTER_CALLERS = {
    "remediation/actions/cluster.py": "nexusops-remediation",
    "deployments/services/gates.py": "nexusops-notifications",
}


def _kubectl() -> str | None:
    venv_kubectl = Path(sys.executable).parent / "kubectl"  # scripts/ci_manifests.sh's fallback
    return shutil.which("kubectl") or (str(venv_kubectl) if venv_kubectl.exists() else None)


@cache
def render(target: str) -> tuple[dict, ...]:
    kubectl = _kubectl()
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing in CI: scripts/ci_manifests.sh installs it")
        pytest.skip("needs kubectl (not on this machine; CI installs it, see ci_manifests.sh)")
    done = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZE / target)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


@pytest.fixture(params=TARGETS)
def objects(request) -> tuple[dict, ...]:
    return render(request.param)


@pytest.fixture
def production() -> tuple[dict, ...]:
    return render("overlays/production")


def of_kind(objects, kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects, kind: str, name: str) -> dict:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def workloads(objects) -> Iterator[dict]:
    for o in objects:
        if o["kind"] in ("Deployment", "Job", "CronJob"):
            yield o


def command_of(workload: dict) -> list[str]:
    (container,) = pod_spec(workload)["containers"]
    return container.get("command", [])


# --- schemas -------------------------------------------------------------------------------
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(objects, version):
    assert len(objects) > 25
    for obj in objects:
        # strict: an unknown or misspelt field is an error, not silently dropped by the API.
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_schema_check_rejects_a_misspelt_field(production):
    web = named(production, "Deployment", "nexusops-web")
    broken = {**web, "spec": {**web["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


def test_no_secret_is_committed_and_every_pod_reads_the_environment_secret(objects):
    assert of_kind(objects, "Secret") == []
    for workload in workloads(objects):
        (container,) = pod_spec(workload)["containers"]
        refs = [e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e]
        assert refs == ["nexusops-env"], workload["metadata"]["name"]


def test_every_configured_setting_is_one_the_settings_read(production):
    source = (ROOT / "nexusops" / "settings.py").read_text()
    (config,) = [
        c
        for c in of_kind(production, "ConfigMap")
        if c["metadata"]["name"].startswith("nexusops-config")
    ]
    for name in config["data"]:
        assert f'"{name}"' in source, f"{name} is not a setting nexusops/settings.py reads"
    assert config["data"]["NEXUSOPS_MODE"] == "production"


# --- web ---------------------------------------------------------------------------------------
def test_web_has_two_replicas_and_probes_on_the_health_views(objects):
    web = named(objects, "Deployment", "nexusops-web")
    assert web["spec"]["replicas"] >= 2
    hpa = named(objects, "HorizontalPodAutoscaler", "nexusops-web")
    assert hpa["spec"]["minReplicas"] >= 2
    (container,) = pod_spec(web)["containers"]
    assert container["command"][:2] == ["gunicorn", "nexusops.wsgi:application"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert resolve("/readyz").url_name == "readyz"
    assert resolve("/healthz").url_name == "healthz"
    # The health views skip the HTTPS redirect; the probes' Host must be an allowed host.
    assert {"^readyz$", "^healthz$"} <= set(_production_redirect_exemptions())


def _production_redirect_exemptions() -> list[str]:
    source = (ROOT / "nexusops" / "settings.py").read_text()
    found = re.search(r"SECURE_REDIRECT_EXEMPT = \[(.*?)\]", source)
    return re.findall(r'r"([^"]+)"', found.group(1))


def test_probe_host_is_in_the_production_allowed_hosts(production):
    web = named(production, "Deployment", "nexusops-web")
    (container,) = pod_spec(web)["containers"]
    (config,) = [
        c
        for c in of_kind(production, "ConfigMap")
        if c["metadata"]["name"].startswith("nexusops-config")
    ]
    allowed = config["data"]["ALLOWED_HOSTS"].split(",")
    for probe in ("readinessProbe", "livenessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] in allowed


# --- workers and beat ---------------------------------------------------------------------------
def _queues_of(deployment: dict) -> set[str]:
    for arg in command_of(deployment):
        if arg.startswith("--queues="):
            return set(arg.split("=", 1)[1].split(","))
    return set()


def test_one_worker_deployment_per_celery_queue_each_sized_and_autoscaled(objects):
    from nexusops.celery import app

    queues = {q.name for q in app.conf.task_queues}
    assert queues == {"default", "notifications", "remediation"}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= queues
    workers = [d for d in of_kind(objects, "Deployment") if "worker" in command_of(d)]
    assert sorted(q for d in workers for q in _queues_of(d)) == sorted(queues)
    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    for worker in workers:
        (container,) = pod_spec(worker)["containers"]
        assert container["resources"]["requests"]["cpu"]
        assert container["resources"]["limits"]["memory"]
        assert worker["metadata"]["name"] in hpa_targets


def test_exactly_one_beat_never_rolled_and_never_autoscaled(objects):
    beats = [w for w in workloads(objects) if "beat" in command_of(w)]
    assert [b["metadata"]["name"] for b in beats] == ["nexusops-beat"]
    (beat,) = beats
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    assert "nexusops-beat" not in targets
    # No worker embeds a beat (`worker -B`).
    for workload in workloads(objects):
        assert "-B" not in command_of(workload) and "--beat" not in command_of(workload)


def test_migrations_run_as_a_presync_job(objects):
    job = named(objects, "Job", "nexusops-migrate")
    assert "manage.py migrate --noinput" in " ".join(command_of(job))
    assert "seed_reference" in " ".join(command_of(job))
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"


def test_disruption_budgets_and_network_policies_select_real_pods(objects):
    pod_labels = [
        pod_spec_labels
        for w in workloads(objects)
        for pod_spec_labels in [
            (w["spec"]["jobTemplate"]["spec"] if w["kind"] == "CronJob" else w["spec"])["template"][
                "metadata"
            ]["labels"]
        ]
    ]

    def selects(selector: dict) -> int:
        wanted = selector.get("matchLabels", {})
        return sum(all(labels.get(k) == v for k, v in wanted.items()) for labels in pod_labels)

    budgets = of_kind(objects, "PodDisruptionBudget")
    assert {b["metadata"]["name"] for b in budgets} >= {
        "nexusops-web",
        "nexusops-worker-notifications",
    }
    for budget in budgets:
        assert selects(budget["spec"]["selector"]) == 1, budget["metadata"]["name"]
    policies = of_kind(objects, "NetworkPolicy")
    deny = named(objects, "NetworkPolicy", "nexusops-default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for policy in policies:
        if policy["spec"]["podSelector"].get("matchLabels"):
            assert selects(policy["spec"]["podSelector"]) >= 1, policy["metadata"]["name"]


def test_backups_run_hourly_with_a_script_that_exists(objects):
    backup = named(objects, "CronJob", "nexusops-backup")
    assert backup["spec"]["schedule"] == "7 * * * *"
    assert backup["spec"]["concurrencyPolicy"] == "Forbid"
    for cronjob in of_kind(objects, "CronJob"):
        script = command_of(cronjob)[1]
        assert (ROOT / script).is_file(), script


# --- RBAC: exactly what the code calls -----------------------------------------------------------
def _client_api_classes(cls: ast.ClassDef) -> dict[str, type]:
    """``self._core = k8s.CoreV1Api(...)`` in ``__init__`` -> {"_core": CoreV1Api}."""
    from kubernetes import client as k8s

    found = {}
    init = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
    for node in ast.walk(init):
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
    tree = ast.parse(CLIENT.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "KubernetesClient")
    apis = _client_api_classes(cls)
    direct: dict[str, set] = {}
    uses: dict[str, set[str]] = {}
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
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
        consumers = [d for d in of_kind(objects, "Deployment") if queue_of[module] in _queues_of(d)]
        assert [pod_spec(d)["serviceAccountName"] for d in consumers] == [account], module


# --- ArgoCD ------------------------------------------------------------------------------------
def test_the_argocd_application_deploys_the_production_overlay():
    app = yaml.safe_load((ROOT / "deploy" / "argocd" / "application.yaml").read_text())
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert app["spec"]["source"]["path"] == "deploy/kubernetes/overlays/production"
    assert (ROOT / app["spec"]["source"]["path"] / "kustomization.yaml").is_file()
    assert app["spec"]["destination"]["namespace"] == "nexusops"


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


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_probes_pass_under_the_overlays_production_settings(production):
    """The web container's environment as the overlay renders it (the ConfigMap, plus the
    Secret's keys), in production mode: the kubelet's requests, with their Host header and
    over plain HTTP, get 200 from /readyz and /healthz (no redirect, no DisallowedHost)."""
    web = named(production, "Deployment", "nexusops-web")
    (container,) = pod_spec(web)["containers"]
    (config,) = [
        c
        for c in of_kind(production, "ConfigMap")
        if c["metadata"]["name"].startswith("nexusops-config")
    ]
    database = settings.DATABASES["default"]
    secret = {
        "SECRET_KEY": "k8s-probe-test-" + "x7Qz" * 12,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    if not secret["CELERY_BROKER_URL"].startswith("redis"):
        pytest.skip("production mode needs a Redis broker (CELERY_BROKER_URL)")
    probes = {
        probe: (
            container[probe]["httpGet"]["path"],
            {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}["Host"],
        )
        for probe in ("readinessProbe", "livenessProbe")
    }
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        f"probes = {probes!r}\n"
        "answers = {p: Client(HTTP_HOST=host).get(path) for p, (path, host) in probes.items()}\n"
        "print(json.dumps({p: [r.status_code, r.content.decode()] for p, r in answers.items()}))\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "nexusops.settings",
        **config["data"],
        **secret,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.splitlines()[-1])
    assert {probe: status for probe, (status, _) in answers.items()} == {
        "readinessProbe": 200,
        "livenessProbe": 200,
    }, answers
