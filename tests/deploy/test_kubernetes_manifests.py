"""The Kubernetes manifests (deploy/kubernetes): rendered with ``kubectl kustomize``, every
object valid against the Kubernetes schemas, and the invariants the schemas cannot see: one
beat, a worker per Celery queue, probes on views that exist and that pass under the overlay's
production settings, budgets and policies that select real pods. RBAC: test_kubernetes_rbac.py.

``scripts/ci_manifests.sh`` runs the same rendering and schema check in CI before the suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from django.urls import resolve

from tests.deploy.manifests import ROOT, command_of, named, of_kind, pod_spec, queues_of, workloads

# The oldest Kubernetes these manifests support, and the newest kubernetes-validate bundles.
K8S_VERSIONS = ("1.30", "1.37")


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
    command = container["command"]
    # The launcher makes /metrics add up every worker's counters (multiprocess mode).
    assert command[:3] == ["python", "-m", "nexusops.serve"]
    kill = next(int(a.split("=", 1)[1]) for a in command if a.startswith("--kill-timeout="))
    assert kill < pod_spec(web)["terminationGracePeriodSeconds"]
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


def test_one_worker_deployment_per_celery_queue_each_sized_and_autoscaled(objects):
    from nexusops.celery import app

    queues = {q.name for q in app.conf.task_queues}
    assert queues == {"default", "notifications", "remediation"}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= queues
    workers = [d for d in of_kind(objects, "Deployment") if "worker" in command_of(d)]
    assert sorted(q for d in workers for q in queues_of(d)) == sorted(queues)
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


# --- ArgoCD ------------------------------------------------------------------------------------
def test_the_argocd_application_deploys_the_production_overlay():
    app = yaml.safe_load((ROOT / "deploy" / "argocd" / "application.yaml").read_text())
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert app["spec"]["source"]["path"] == "deploy/kubernetes/overlays/production"
    assert (ROOT / app["spec"]["source"]["path"] / "kustomization.yaml").is_file()
    assert app["spec"]["destination"]["namespace"] == "nexusops"


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


def test_the_worker_liveness_probe_answers_for_its_own_worker_only(production):
    """The default worker's own command and its liveness probe, run as the pod would (its
    HOSTNAME is the host name Celery's %h expands to): the probe succeeds once the worker is
    up, and the same probe aimed at another pod's name fails, so it tests this worker."""
    import socket

    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the probe uses Celery's remote control: needs the Redis broker")
    worker = named(production, "Deployment", "nexusops-worker-default")
    (container,) = pod_spec(worker)["containers"]
    probe = container["livenessProbe"]["exec"]["command"]
    env = {
        **os.environ,
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "HOSTNAME": socket.gethostname(),
    }
    env.pop("NEXUSOPS_MODE", None)
    proc = subprocess.Popen(
        container["command"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + container["livenessProbe"]["initialDelaySeconds"] + 30
        while True:
            answered = subprocess.run(probe, env=env, capture_output=True, text=True)
            if answered.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert answered.returncode == 0, answered.stdout + answered.stderr
        assert "pong" in answered.stdout
        other = subprocess.run(
            probe, env={**env, "HOSTNAME": "some-other-pod"}, capture_output=True, text=True
        )
        assert other.returncode != 0
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_backup_and_drill_cronjobs_commands_dump_and_restore(production, tmp_path):
    """Both CronJobs' commands as rendered, with Kubernetes' $(VAR) expansion from their env
    and the Secret's keys, the volume at tmp_path: the dump is taken and the drill passes."""
    import psycopg

    from tests import factories
    from tests.support.worker import worker_database_url

    factories.incident()
    source = worker_database_url()
    scratch_name = f"{source.rsplit('/', 1)[1]}_cron_drill"
    secret = {
        "DATABASE_URL": source,
        "RESTORE_DRILL_DATABASE_URL": f"{source.rsplit('/', 1)[0]}/{scratch_name}",
    }
    outputs = []
    try:
        for name in ("nexusops-backup", "nexusops-restore-drill"):
            (container,) = pod_spec(named(production, "CronJob", name))["containers"]
            env = {**secret, **{e["name"]: e["value"] for e in container.get("env", [])}}
            command = [
                re.sub(r"\$\((\w+)\)", lambda m, env=env: env[m[1]], arg).replace(
                    "/backups", str(tmp_path)
                )
                for arg in container["command"]
            ]
            command[0] = sys.executable if command[0] == "python" else command[0]
            done = subprocess.run(
                command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout)
    finally:
        with psycopg.connect(source.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')
    assert "dumped" in outputs[0] and "restore drill passed" in outputs[1]


# --- the Mattermost pin listener ----------------------------------------------------------------


def test_the_mattermost_overlay_runs_exactly_one_pin_listener_never_rolled():
    from tests.deploy.manifests import render

    listeners = [
        w
        for w in workloads(render("overlays/production-mattermost"))
        if "mattermost_listen" in command_of(w)
    ]
    assert [w["metadata"]["name"] for w in listeners] == ["nexusops-mattermost-listener"]
    (listener,) = listeners
    assert listener["metadata"]["namespace"] == "nexusops"
    assert listener["spec"]["replicas"] == 1
    assert listener["spec"]["strategy"] == {"type": "Recreate"}
    assert command_of(listener) == ["python", "manage.py", "mattermost_listen"]
    (config,) = [
        c
        for c in of_kind(render("overlays/production-mattermost"), "ConfigMap")
        if c["metadata"]["name"].startswith("nexusops-config")
    ]
    assert "mattermost" in config["data"]["NEXUSOPS_CHAT"].split(",")
    assert config["data"]["MATTERMOST_URL"].startswith("https://")
    # Slack-only deployments run no listener (it would only idle).
    for target in ("base", "overlays/production"):
        assert not [w for w in workloads(render(target)) if "mattermost_listen" in command_of(w)]
