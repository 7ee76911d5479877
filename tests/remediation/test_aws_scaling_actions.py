"""The AWS scaling and exposure actions end to end (issue 21): requested on an incident's
scenario step, dry-run, approved by a second person, run by a real worker against moto over
HTTP, and what moto holds afterwards checked; bad input is refused with nothing sent."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from incidents.models import TimelineEvent
from nexusops.common import roles
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from remediation.models import ActionRun, Scenario, ScenarioStep
from remediation.seed import seed_scenarios
from remediation.seed_aws import seed_aws_scenarios
from remediation.services import action_approve, action_request, scenario_attach, scenario_step_set
from tests.factories import UserFactory, incident
from tests.remediation_integrations.conftest import moto_recorder  # noqa: F401 - a fixture

from .helpers import run_action, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State


@pytest.fixture
def people(remediation_worker, remediation_settings):
    seed_scenarios(lambda _: None)
    seed_aws_scenarios(lambda _: None)
    return {
        "ic": UserFactory(username="ic-aws", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="mgr-aws", role=roles.MANAGER),
        "responder": UserFactory(username="resp-aws", role=roles.RESPONDER),
    }


@pytest.fixture
def boto(moto_url):  # noqa: ANN201 - boto3 clients, for arranging moto's state
    def client(service: str):  # noqa: ANN202
        return boto3.client(
            service,
            endpoint_url=moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


def _attached(slug: str, people, **kwargs):  # noqa: ANN202
    inc = incident(**kwargs)
    scenario = Scenario.objects.get(slug=slug)
    scenario_attach(incident=inc, scenario=scenario, actor=people["ic"])
    return inc, {s.action or s.text: s for s in scenario.steps.all()}


def _step_run(action: str, steps, people, inc, params: dict | None = None, approver="manager"):  # noqa: ANN001, ANN202
    step = steps[action]
    return run_action(
        action, {**step.params, **(params or {})}, requester=people["ic"],
        approver=people[approver] if approver else None, incident=inc, step=step,
    )  # fmt: skip


def _lag(boto, replica: str, values: list[float]) -> None:
    now = dt.datetime.now(dt.UTC)
    for n, value in enumerate(values):
        boto("cloudwatch").put_metric_data(Namespace="AWS/RDS", MetricData=[{
            "MetricName": "ReplicaLag", "Value": value,
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
            "Timestamp": now - dt.timedelta(minutes=len(values) - n),
        }])  # fmt: skip


def test_database_scaling_replica_lag_resize_promote_and_cut_over(people, boto):
    boto("rds").create_db_instance(
        DBInstanceIdentifier="nexus-prod", DBInstanceClass="db.r6g.large", Engine="postgres",
        MasterUsername="nexus", MasterUserPassword="secret-password", AllocatedStorage=50,
    )  # fmt: skip
    inc, steps = _attached("database-scaling", people, title="Read replica lag on RDS",
                           services=("postgresql",))  # fmt: skip
    ic, manager = people["ic"], people["manager"]

    replica = _step_run("rds.create_replica", steps, people, inc)
    assert replica.state == State.SUCCEEDED, replica.error
    assert "Create read replica nexus-prod-read-2 (db.r6g.large) of nexus-prod" in replica.preview
    described = boto("rds").describe_db_instances(DBInstanceIdentifier="nexus-prod-read-2")
    assert described["DBInstances"][0]["ReadReplicaSourceDBInstanceIdentifier"] == "nexus-prod"

    _lag(boto, "nexus-prod-read-2", [2.0, 30.0, 9.0])
    lag = run_action("rds.replica_lag", {"instance": "nexus-prod"}, requester=people["responder"],
                     incident=inc)  # fmt: skip
    assert lag.state == State.SUCCEEDED, lag.error
    assert "worst lag 9 s" in lag.summary and "9 s behind (max 30 s)" in lag.output

    with pytest.raises(PermissionDeniedError):  # a responder diagnoses, never resizes
        action_request(action="rds.resize", params={"instance_class": "db.r6g.2xlarge"},
                       actor=people["responder"], incident=inc)  # fmt: skip
    resize = action_request(
        action="rds.resize",
        actor=ic,
        incident=inc,
        step=steps["rds.resize"],
        params={"instance": "nexus-prod", "instance_class": "db.r6g.2xlarge"},
    )
    resize = settle(resize, State.AWAITING_APPROVAL, State.REJECTED)
    assert "from db.r6g.large to db.r6g.2xlarge" in resize.preview
    with pytest.raises(PermissionDeniedError, match="second person"):
        action_approve(run=resize, actor=ic)
    assert boto("rds").describe_db_instances(DBInstanceIdentifier="nexus-prod")["DBInstances"][0][
        "DBInstanceClass"] == "db.r6g.large"  # fmt: skip
    action_approve(run=resize, actor=manager)
    resize = settle(resize)
    assert resize.state == State.SUCCEEDED, resize.error
    assert "db.r6g.large → db.r6g.2xlarge" in resize.summary
    assert boto("rds").describe_db_instances(DBInstanceIdentifier="nexus-prod")["DBInstances"][0][
        "DBInstanceClass"] == "db.r6g.2xlarge"  # fmt: skip

    promote = _step_run("rds.promote_replica", steps, people, inc, {"replica": "nexus-prod-read-2"})
    assert promote.state == State.SUCCEEDED, promote.error
    assert "Replication from nexus-prod stops for good" in promote.preview
    assert "[ ] Verify writes reach the new primary" in promote.output
    cut_over = [s for s in steps.values() if s.kind == ScenarioStep.Kind.FOLLOW_UP]
    assert len(cut_over) == 4
    for step in cut_over:
        scenario_step_set(incident=inc, step=step, done=True, actor=ic)
    ticked = TimelineEvent.objects.filter(incident=inc, kind="scenario_step").order_by("id")
    assert [e.message[:28] for e in ticked] == ["ticked “Cut-over: Update the"] * 1 + [
        "ticked “Cut-over: Verify wri",
        "ticked “Cut-over: Re-create ",
        "ticked “Cut-over: Keep the o",
    ]
    events = TimelineEvent.objects.filter(incident=inc, data__run=resize.pk).order_by("id")
    assert [e.kind for e in events] == [
        "remediation_requested", "remediation_preview", "remediation_approved",
        "remediation_started", "remediation_output", "remediation_succeeded",
    ]  # fmt: skip


def test_cache_memory_evictions_and_a_larger_node_type(people, boto):
    boto("elasticache").create_replication_group(
        ReplicationGroupId="nexus-redis", ReplicationGroupDescription="sessions",
        CacheNodeType="cache.r6g.large", Engine="redis", NumNodeGroups=1, ReplicasPerNodeGroup=1,
    )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    for metric, value in (("DatabaseMemoryUsagePercentage", 96.5), ("Evictions", 420.0)):
        boto("cloudwatch").put_metric_data(Namespace="AWS/ElastiCache", MetricData=[{
            "MetricName": metric, "Value": value, "Timestamp": now - dt.timedelta(minutes=2),
            "Dimensions": [{"Name": "CacheClusterId", "Value": "nexus-redis-001"}],
        }])  # fmt: skip
    inc, steps = _attached("cache-scaling", people, title="Redis evictions", services=("redis",))

    memory = _step_run("cache.memory", steps, people, inc, approver=None)
    assert memory.state == State.SUCCEEDED, memory.error
    assert "memory peak 96.5 %, 420 evictions" in memory.summary
    assert "nexus-redis-002  no data" in memory.output  # a node with no points says so

    scaled = _step_run("cache.scale_up", steps, people, inc, {"node_type": "cache.r6g.xlarge"})
    assert scaled.state == State.SUCCEEDED, scaled.error
    assert "from cache.r6g.large to cache.r6g.xlarge" in scaled.preview
    group = boto("elasticache").describe_replication_groups(ReplicationGroupId="nexus-redis")
    assert group["ReplicationGroups"][0]["CacheNodeType"] == "cache.r6g.xlarge"


def test_disk_space_grow_a_volume_then_the_filesystem_step(people, boto, moto_recorder):  # noqa: F811
    ec2 = boto("ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    volume = ec2.create_volume(Size=100, AvailabilityZone="us-east-1a")["VolumeId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=instance["InstanceId"], Device="/dev/xvdf")
    inc, steps = _attached("out-of-disk-space", people, title="No space left on device")

    listed = _step_run("ebs.volumes", steps, people, inc, approver=None)
    assert listed.state == State.SUCCEEDED, listed.error
    assert f"{volume}  " in listed.output and "/dev/xvdf" in listed.output

    moto_recorder.start()
    smaller = action_request(
        action="ebs.resize",
        params={"volume": volume, "size_gib": 80},
        actor=people["ic"],
        incident=inc,
        step=steps["ebs.resize"],
    )
    smaller = settle(smaller, State.REJECTED, State.AWAITING_APPROVAL)
    assert smaller.state == State.REJECTED and "a volume only grows" in smaller.error
    assert moto_recorder.requests() == ["DescribeVolumes"]

    grown = _step_run("ebs.resize", steps, people, inc, {"volume": volume, "size_gib": 250})
    assert grown.state == State.SUCCEEDED, grown.error
    assert "from 100 GiB to 250 GiB" in grown.preview and "growpart /dev/xvdf 1" in grown.preview
    assert "sudo resize2fs /dev/xvdf1" in grown.output
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Size"] == 250
    grow_fs = next(s for s in steps.values() if s.text.startswith("Grow the filesystem"))
    assert scenario_step_set(incident=inc, step=grow_fs, done=True, actor=people["ic"])


def test_s3_exposure_flagged_then_public_access_blocked(people, boto):
    s3 = boto("s3")
    s3.create_bucket(Bucket="nexus-uploads")
    s3.put_bucket_acl(Bucket="nexus-uploads", ACL="public-read")
    s3.put_bucket_policy(Bucket="nexus-uploads", Policy=json.dumps({"Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::nexus-uploads/*"}]}))  # fmt: skip
    inc, steps = _attached("file-upload-failures", people, title="Uploads exposed on S3")

    check = _step_run("s3.exposure", steps, people, inc, approver=None)
    assert check.state == State.SUCCEEDED and check.summary.startswith("nexus-uploads: PUBLIC")
    assert "ACL grants READ to everyone (AllUsers)" in check.summary
    assert "policy statement PublicRead allows s3:GetObject to anyone" in check.summary

    boto("iam").create_role(RoleName="nexus-content-service-role", AssumeRolePolicyDocument="{}")
    boto("iam").put_role_policy(
        RoleName="nexus-content-service-role", PolicyName="S3Access",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )  # fmt: skip
    role = _step_run("iam.role_policy", steps, people, inc, approver=None)
    assert role.state == State.SUCCEEDED, role.error
    assert "broader than needed: statement All allows every action of *" in role.summary

    block = _step_run("s3.block_public_access", steps, people, inc)
    assert block.state == State.SUCCEEDED, block.error
    assert "not public any more" in block.summary
    conf = s3.get_public_access_block(Bucket="nexus-uploads")["PublicAccessBlockConfiguration"]
    assert set(conf.values()) == {True}
    kinds = list(TimelineEvent.objects.filter(incident=inc, data__run=block.pk)
                 .values_list("kind", flat=True))  # fmt: skip
    assert "remediation_approved" in kinds and "remediation_succeeded" in kinds


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("ebs.resize", {"volume": "vol-12", "size_gib": 200}, "volume"),
        ("ebs.resize", {"volume": "vol-0123456789abcdef0", "size_gib": 0}, "size_gib"),
        (
            "ebs.resize",
            {"volume": "vol-0123456789abcdef0", "size_gib": 200, "region": "moon-1"},
            "region",
        ),  # fmt: skip
        ("rds.resize", {"instance": "nexus-prod", "instance_class": "db.huge"}, "instance_class"),
        ("rds.create_replica", {"source": "nexus_prod", "replica": "r1"}, "source"),
        ("rds.promote_replica", {"replica": "ends-with-"}, "replica"),
        ("cache.scale_up", {"group": "nexus-redis", "node_type": "m5.large"}, "node_type"),
        ("cache.add_shards", {"group": "nexus-redis", "shards": 1}, "shards"),
        ("cache.add_shards", {"group": "nexus-redis", "shards": 91}, "shards"),
        ("cache.add_shards", {"group": "Nexus_Redis", "shards": 3}, "group"),
        ("cache.add_replicas", {"group": "nexus-redis", "replicas": 6}, "replicas"),
        ("cache.add_replicas", {"group": "nexus-redis", "replicas": "two"}, "replicas"),
        (
            "cache.add_replicas",
            {"group": "nexus-redis", "replicas": 2, "region": "mars-1"},
            "region",
        ),
        ("s3.block_public_access", {"bucket": "Not_A_Bucket"}, "bucket"),
        ("iam.role_policy", {"role": "a role", "policy": "S3Access"}, "role"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_called(people, moto_recorder, action, params, field):  # noqa: F811
    with pytest.raises(ApplicationError) as refused:
        action_request(action=action, params=params, actor=people["ic"], incident=incident())
    assert field in refused.value.fields
    assert ActionRun.objects.count() == 0
    assert moto_recorder.requests() == []


def test_seeding_gives_existing_steps_their_actions_once_and_keeps_edits(people):
    disk = Scenario.objects.get(slug="out-of-disk-space")
    assert disk.steps.get(text="Increase EBS volume size").action == "ebs.resize"
    latency = Scenario.objects.get(slug="high-api-latency")
    edited = latency.steps.get(text="Enable read replicas if database bottleneck")
    edited.action, edited.params = "", {}
    edited.text = "Enable read replicas (ask the DBA first)"
    edited.save()
    counts = {s.slug: s.steps.count() for s in Scenario.objects.all()}

    seed_aws_scenarios(lambda _: None)

    assert {s.slug: s.steps.count() for s in Scenario.objects.all()} == counts
    edited.refresh_from_db()
    assert edited.action == "" and edited.text == "Enable read replicas (ask the DBA first)"


def test_the_scenario_pages_show_their_aws_actions(people, client):
    client.force_login(people["responder"])
    pages = {slug: client.get(f"/runbooks/{slug}/").content.decode() for slug in (
        "database-scaling", "cache-scaling", "out-of-disk-space", "file-upload-failures",
        "disaster-recovery")}  # fmt: skip
    assert "rds.resize · needs approval" in pages["database-scaling"]
    assert "rds.replica_lag</code>" in pages["database-scaling"]
    assert "Cut-over: Verify writes" in pages["database-scaling"]
    assert "cache.memory</code>" in pages["cache-scaling"]
    assert "cache.scale_up · needs approval" in pages["cache-scaling"]
    assert "cache.add_shards · needs approval" in pages["cache-scaling"]
    assert "cache.add_replicas · needs approval" in pages["cache-scaling"]
    assert "not automated here" not in pages["cache-scaling"]
    assert "ebs.resize · needs approval" in pages["out-of-disk-space"]
    assert "Grow the filesystem on the instance" in pages["out-of-disk-space"]
    assert "s3.block_public_access · needs approval" in pages["file-upload-failures"]
    assert "iam.role_policy</code>" in pages["file-upload-failures"]
    assert "rds.promote_replica · needs approval" in pages["disaster-recovery"]
