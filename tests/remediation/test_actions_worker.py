"""Every action end to end: requested through the service, run by a real worker on the
``remediation`` queue against its stand-in (or the real PostgreSQL/Redis), and the stand-in's
state checked afterwards."""

from __future__ import annotations

import gzip
import threading

import psycopg
import pytest

from incidents.models import TimelineEvent
from nexusops.common import roles
from remediation.models import ActionRun
from remediation.seed import seed_scenarios
from remediation.selectors import incident_panel_context, scenario_suggest
from remediation.services import scenario_attach, scenario_step_set
from tests.factories import UserFactory, incident
from tests.support.worker import WorkerProcess

from .helpers import kinds, run_action, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State


@pytest.fixture
def people(remediation_worker, remediation_settings):
    return {
        "ic": UserFactory(username="ic-w", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="mgr-w", role=roles.MANAGER),
    }


def _template(state: dict, kind: str, name: str) -> dict:
    obj = next(o for o in state["objects"][kind] if o["metadata"]["name"] == name)
    template = obj["spec"]["template"]
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return template


def test_platform_down_attach_diagnose_and_roll_back(people, k8s_standin):
    seed_scenarios(lambda _: None)
    inc = incident(title="Platform down: 502s from api-gateway", severity_code="P0")
    scenario = scenario_suggest(incident=inc)[0]
    assert scenario.slug == "platform-down"
    scenario_attach(incident=inc, scenario=scenario, actor=people["ic"])
    steps = {s.action: s for s in scenario.steps.all() if s.action}
    ic, manager = people["ic"], people["manager"]

    pods = run_action("k8s.pods", steps["k8s.pods"].params, requester=ic, incident=inc,
                      step=steps["k8s.pods"])  # fmt: skip
    assert pods.state == State.SUCCEEDED and "CrashLoopBackOff" in pods.output
    scenario_step_set(incident=inc, step=steps["k8s.pods"], done=True, actor=ic)
    logs = run_action("k8s.logs", {"deployment": "api-gateway", "tail_lines": 5},
                      requester=ic, incident=inc)  # fmt: skip
    assert logs.state == State.SUCCEEDED and "==> api-gateway-" in logs.output
    history = run_action("k8s.rollout_history", {"deployment": "api-gateway"},
                         requester=ic, incident=inc)  # fmt: skip
    chosen = history.result["revisions"][0]
    assert [r["revision"] for r in history.result["revisions"]] == [17, 18, 19]

    undo = run_action(
        "k8s.rollout_undo", {"deployment": "api-gateway", "to_revision": 17},
        requester=ic, approver=manager, incident=inc, step=steps["k8s.rollout_undo"],
    )  # fmt: skip

    assert undo.state == State.SUCCEEDED, undo.error
    assert undo.decided_by == manager and "revision 17" in undo.summary
    state = k8s_standin.state()
    assert _template(state, "deployments", "api-gateway") == _template(
        state, "replicasets", chosen["replicaset"]
    )
    assert kinds(inc).count("remediation_succeeded") == 4
    undo_events = TimelineEvent.objects.filter(incident=inc, data__run=undo.pk).order_by("id")
    assert [e.kind for e in undo_events] == [
        "remediation_requested", "remediation_preview", "remediation_approved",
        "remediation_started", "remediation_output", "remediation_succeeded",
    ]  # fmt: skip
    assert {e.visibility for e in undo_events} == {TimelineEvent.Visibility.INTERNAL}
    panel = incident_panel_context(incident=inc, user=ic)
    assert panel["scenarios"][0]["steps"][0]["check"] is not None
    assert not panel["polling"] and len(panel["finished"]) == 4


def test_kubernetes_changes(people, k8s_standin):
    ic, manager = people["ic"], people["manager"]
    inc = incident()
    crashing = next(
        p["metadata"]["name"] for p in k8s_standin.state()["objects"]["pods"]
        if p["metadata"]["name"].startswith("notification-service")
        and p["status"]["containerStatuses"][0]["restartCount"] == 6
    )  # fmt: skip
    events = run_action("k8s.pod_events", {"pod": crashing}, requester=ic, incident=inc)
    assert events.state == State.SUCCEEDED and "BackOff" in events.output

    restart = run_action("k8s.rollout_restart", {"deployment": "auth-service"}, requester=ic,
                         incident=inc)  # fmt: skip
    annotations = _template(k8s_standin.state(), "deployments", "auth-service")["metadata"][
        "annotations"
    ]
    assert restart.state == State.SUCCEEDED and "kubectl.kubernetes.io/restartedAt" in annotations

    hpa = run_action("k8s.hpa", {"deployment": "user-service"}, requester=ic, incident=inc)
    low, high = hpa.result["min_replicas"], hpa.result["max_replicas"]
    scaled = run_action("k8s.scale", {"deployment": "user-service", "replicas": high},
                        requester=ic, incident=inc)  # fmt: skip
    deployment = next(d for d in k8s_standin.state()["objects"]["deployments"]
                      if d["metadata"]["name"] == "user-service")  # fmt: skip
    assert scaled.state == State.SUCCEEDED and deployment["spec"]["replicas"] == high

    patched = run_action(
        "k8s.hpa_patch", {"deployment": "user-service", "max_replicas": high + 5, "target_cpu": 60},
        requester=ic, incident=inc,
    )  # fmt: skip
    stored = next(h for h in k8s_standin.state()["objects"]["horizontalpodautoscalers"]
                  if h["spec"]["scaleTargetRef"]["name"] == "user-service")  # fmt: skip
    assert patched.state == State.SUCCEEDED
    assert (stored["spec"]["minReplicas"], stored["spec"]["maxReplicas"]) == (low, high + 5)

    zero = run_action("k8s.scale", {"deployment": "billing-service", "replicas": 0,
                                    "override_reason": "stop double charges"},
                      requester=ic, approver=manager, incident=inc)  # fmt: skip
    assert zero.dangerous and zero.state == State.SUCCEEDED, zero.error

    deleted = run_action("k8s.delete_pod", {"pod": crashing}, requester=ic, approver=manager,
                         incident=inc)  # fmt: skip
    assert deleted.state == State.SUCCEEDED
    assert crashing not in {p["metadata"]["name"] for p in k8s_standin.state()["objects"]["pods"]}


def test_argocd_revision_change(people, argocd_standin):
    inc = incident()
    sha = "0123456789abcdef0123456789abcdef01234567"
    run = run_action("argocd.set_revision", {"app": "nexus-platform", "revision": sha},
                     requester=people["ic"], approver=people["manager"], incident=inc)  # fmt: skip
    assert run.state == State.SUCCEEDED, run.error
    app = argocd_standin.state()["apps"]["nexus-platform"]
    assert app["spec"]["source"]["targetRevision"] == sha
    assert app["status"]["operationState"]["phase"] == "Succeeded"


def test_manager_backup_and_s3_restore_outside_an_incident(people, moto_url):
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    s3.create_bucket(Bucket="nexus-backups")
    manager, ic = people["manager"], people["ic"]

    backup = run_action("aws.pg_backup", {}, requester=manager)
    assert backup.state == State.SUCCEEDED, backup.error
    assert backup.incident is None and backup.result["key"].startswith("manual/backup_")
    body = s3.get_object(Bucket="nexus-backups", Key=backup.result["key"])["Body"].read()
    dump = gzip.decompress(body).decode()
    assert "PostgreSQL database dump" in dump and "CREATE TABLE public.widgets" in dump

    s3.create_bucket(Bucket="nexus-media")
    s3.put_bucket_versioning(Bucket="nexus-media", VersioningConfiguration={"Status": "Enabled"})
    key = "uploads/video_123.mp4"
    old = s3.put_object(Bucket="nexus-media", Key=key, Body=b"the good video")["VersionId"]
    s3.put_object(Bucket="nexus-media", Key=key, Body=b"corrupted")
    versions = run_action("aws.s3_versions", {"bucket": "nexus-media", "key": key},
                          requester=manager)  # fmt: skip
    assert len(versions.result["versions"]) == 2
    restored = run_action("aws.s3_restore", {"bucket": "nexus-media", "key": key,
                                             "version_id": old},
                          requester=manager, approver=ic)  # fmt: skip
    assert restored.state == State.SUCCEEDED, restored.error
    assert s3.get_object(Bucket="nexus-media", Key=key)["Body"].read() == b"the good video"
    report = run_action("aws.bucket_report", {"bucket": "nexus-media"}, requester=manager)
    assert report.result["versioning"] == "Enabled"
    assert "no cross-region replication" in report.summary


def test_rds_point_in_time_restore(people, moto_url):
    import boto3

    rds = boto3.client("rds", endpoint_url=moto_url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    created = rds.create_db_instance(
        DBInstanceIdentifier="nexus-prod", Engine="postgres", DBInstanceClass="db.r6g.large",
        AllocatedStorage=100, MasterUsername="postgres", MasterUserPassword="not-a-secret-1",
        BackupRetentionPeriod=7,
    )["DBInstance"]["InstanceCreateTime"]  # fmt: skip
    run = run_action(
        "aws.rds_pitr",
        {"source": "nexus-prod", "target": "nexus-prod-pitr", "restore_time": created.isoformat()},
        requester=people["ic"], approver=people["manager"], incident=incident(),
    )  # fmt: skip
    assert run.state == State.SUCCEEDED, run.error
    names = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert names == {"nexus-prod", "nexus-prod-pitr"}


def test_postgres_checks_and_terminate(people, checks_db):
    ic, manager, inc = people["ic"], people["manager"], incident()
    sleeper = psycopg.connect(checks_db, autocommit=True)
    pid = sleeper.info.backend_pid
    failure: list[BaseException] = []

    def sleep() -> None:
        try:
            sleeper.execute("SELECT pg_sleep(60)")
        except psycopg.Error as exc:
            failure.append(exc)

    thread = threading.Thread(target=sleep, daemon=True)
    thread.start()
    try:
        conns = run_action("pg.connections", {}, requester=ic, incident=inc)
        assert conns.state == State.SUCCEEDED and conns.result["max_connections"] > 0
        slow = run_action("pg.long_queries", {"limit": 50}, requester=ic, incident=inc)
        assert pid in {q["pid"] for q in slow.result["queries"]}, slow.output
        top = run_action("pg.top_statements", {}, requester=ic, incident=inc)
        assert top.state == State.SUCCEEDED and "not installed" in top.summary
        kill = run_action("pg.terminate_backend", {"pid": pid}, requester=ic, approver=manager,
                          incident=inc)  # fmt: skip
        assert kill.state == State.SUCCEEDED and kill.result == {"pid": pid, "terminated": True}
        assert "pg_sleep(60)" in kill.preview
        thread.join(10)
        assert failure, "the sleeping backend should have been terminated"
    finally:
        sleeper.close()


def test_redis_checks_and_flushdb(people, redis_db):
    ic, manager, inc = people["ic"], people["manager"], incident()
    redis_db.rpush("email_queue", "a", "b", "c")
    assert run_action("redis.ping", {}, requester=ic, incident=inc).summary.startswith("PONG")
    info = run_action("redis.info", {"section": "memory"}, requester=ic, incident=inc)
    assert "used_memory_human" in info.result["highlights"]
    llen = run_action("redis.llen", {"queue": "email_queue"}, requester=ic, incident=inc)
    assert llen.result == {"queue": "email_queue", "length": 3}
    flush = run_action("redis.flushdb", {}, requester=ic, approver=manager, incident=inc)
    assert flush.state == State.SUCCEEDED and redis_db.dbsize() == 0


def test_long_output_is_truncated_on_the_timeline_and_downloadable(people, client):
    inc = incident()
    run = run_action("k8s.logs", {"deployment": "api-gateway", "tail_lines": 10_000},
                     requester=people["ic"], incident=inc)  # fmt: skip
    assert len(run.output) > 2000
    event = TimelineEvent.objects.get(incident=inc, kind="remediation_output")
    assert event.data["truncated"] and len(event.message) < 2200
    client.force_login(people["ic"])
    response = client.get(f"/remediation/runs/{run.pk}/output/")
    assert response.status_code == 200 and response.content.decode() == run.output


def test_an_unreachable_api_server_fails_clearly_and_fast(
    remediation_worker, remediation_settings, closed_port
):
    remediation_worker.stop()  # this test needs a worker pointed elsewhere
    url = f"http://127.0.0.1:{closed_port}"
    remediation_settings.KUBERNETES_API_URL = url
    env = {**remediation_worker.extra_env, "KUBERNETES_API_URL": url}
    worker = WorkerProcess(queues="remediation", extra_env=env).start()
    try:
        ic = UserFactory(username="ic-u", role=roles.INCIDENT_COMMANDER)
        from remediation.services import action_request

        run = action_request(action="k8s.pods", params={}, actor=ic, incident=incident())
        run = settle(run, timeout=45)
        assert run.state == State.FAILED
        assert f"cannot reach the Kubernetes API at {url}" in run.error
        assert (run.finished_at - run.started_at).total_seconds() < 10
    finally:
        worker.stop()
        remediation_worker.start()  # for any test added after this one
