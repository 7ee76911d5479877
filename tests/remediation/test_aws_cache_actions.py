"""Adding ElastiCache shards and replicas (runbook 3.3) end to end: requested on the incident's
cache-scaling step, dry-run, approved by a second person, run by a real worker against moto
(extended with the two operations by ``nexusops.standins.moto_elasticache``) over HTTP; the
refusals before any change, and the re-check when the approved run starts."""

from __future__ import annotations

import pytest

from incidents.models import TimelineEvent
from nexusops.common.errors import PermissionDeniedError
from remediation.models import ActionRun, Scenario
from remediation.seed_aws import OLD_SHARDS_STEP, seed_aws_scenarios
from remediation.services import action_approve, action_request
from tests.remediation_integrations.conftest import moto_recorder  # noqa: F401 - a fixture

from .helpers import kinds, settle
from .test_aws_scaling_actions import _attached, _step_run, boto, people  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State


@pytest.fixture
def cache(people, boto):  # noqa: ANN201, F811 - the ElastiCache client, with the demo's group
    client = boto("elasticache")
    client.create_replication_group(
        ReplicationGroupId="nexus-redis", ReplicationGroupDescription="sessions", Engine="redis",
        CacheNodeType="cache.r6g.large", NumNodeGroups=2, ReplicasPerNodeGroup=1,
        ClusterMode="enabled",
    )  # fmt: skip
    return client


def _group(cache) -> dict:
    return cache.describe_replication_groups(ReplicationGroupId="nexus-redis")["ReplicationGroups"][
        0
    ]


def _request(people, inc, steps, action: str, **params):  # noqa: ANN001, ANN202, F811
    run = action_request(
        action=action, params={"group": "nexus-redis", **params}, actor=people["ic"],
        incident=inc, step=steps[action],
    )  # fmt: skip
    return settle(run, State.AWAITING_APPROVAL, State.REJECTED)


def test_add_shards_then_replicas_with_a_second_approver(people, cache, moto_recorder):  # noqa: F811
    inc, steps = _attached("cache-scaling", people, title="Redis evicting", services=("redis",))

    shards = _request(people, inc, steps, "cache.add_shards", shards=3)

    assert shards.state == State.AWAITING_APPROVAL, shards.error
    assert "Reshard nexus-redis online (2 shard(s) × 1 replica(s), 4 nodes" in shards.preview
    assert "2 → 3 shards, each new one with 2 node(s); 4 → 6 nodes" in shards.preview
    with pytest.raises(PermissionDeniedError, match="second person"):
        action_approve(run=shards, actor=people["ic"])
    assert len(_group(cache)["NodeGroups"]) == 2  # nothing changed while it waits
    moto_recorder.start()
    action_approve(run=shards, actor=people["manager"])
    shards = settle(shards)

    assert shards.state == State.SUCCEEDED, shards.error
    assert shards.summary == (
        "nexus-redis: 2 → 3 shards, available (3 shard(s) × 1 replica(s), 6 nodes)"
    )
    assert [s["NodeGroupId"] for s in _group(cache)["NodeGroups"]] == ["0001", "0002", "0003"]
    assert moto_recorder.requests()[:2] == [
        "DescribeReplicationGroups",  # the re-check of the approved dry run
        "ModifyReplicationGroupShardConfiguration",
    ]
    events = TimelineEvent.objects.filter(incident=inc, data__run=shards.pk).order_by("id")
    assert [e.kind for e in events] == [
        "remediation_requested", "remediation_preview", "remediation_approved",
        "remediation_started", "remediation_output", "remediation_succeeded",
    ]  # fmt: skip
    assert "2 → 3 shards, available" in events.last().message

    replicas = _step_run("cache.add_replicas", steps, people, inc, {"replicas": 2})

    assert replicas.state == State.SUCCEEDED, replicas.error
    assert "1 → 2 replica(s) in every shard; 6 → 9 nodes" in replicas.preview
    assert "2 replica(s) per shard, available (3 shard(s) × 2 replica(s), 9 nodes)" in (
        replicas.summary
    )
    assert len(_group(cache)["MemberClusters"]) == 9


def test_the_dry_run_refuses_what_cannot_apply_and_sends_no_change(people, cache, moto_recorder):  # noqa: F811
    inc, steps = _attached("cache-scaling", people, title="Redis evicting", services=("redis",))
    moto_recorder.start()

    fewer = _request(people, inc, steps, "cache.add_shards", shards=2)
    same = _request(people, inc, steps, "cache.add_replicas", replicas=1)

    assert fewer.state == State.REJECTED and "has 2 shard(s): adding shards needs more" in (
        fewer.error
    )
    assert same.state == State.REJECTED and "already has 1 replica(s) in every shard" in (
        same.error
    )
    assert moto_recorder.requests() == ["DescribeReplicationGroups"] * 2
    assert kinds(inc).count("remediation_rejected") == 2
    rejected = TimelineEvent.objects.filter(incident=inc, kind="remediation_rejected")
    assert any("refused by its dry run" in e.message and "has 2 shard(s)" in e.message
               for e in rejected)  # fmt: skip


def test_the_approved_run_checks_the_group_again(people, cache, moto_recorder):  # noqa: F811
    inc, steps = _attached("cache-scaling", people, title="Redis evicting", services=("redis",))
    run = _request(people, inc, steps, "cache.add_shards", shards=3)
    assert run.state == State.AWAITING_APPROVAL and run.pinned == {"shards": 2}
    # Someone reshards in the console while the request waits for approval.
    cache.modify_replication_group_shard_configuration(
        ReplicationGroupId="nexus-redis", NodeGroupCount=4, ApplyImmediately=True
    )
    assert len(_group(cache)["NodeGroups"]) == 4
    moto_recorder.start()

    action_approve(run=run, actor=people["manager"])
    run = settle(run)

    assert run.state == State.FAILED
    assert "has shards 4 now, not 2 as in the approved dry run: nothing was changed" in run.error
    assert moto_recorder.requests() == ["DescribeReplicationGroups"]
    assert len(_group(cache)["NodeGroups"]) == 4
    assert "remediation_failed" in kinds(inc)


def test_seeding_turns_the_old_console_step_into_the_action(people):  # noqa: F811
    scenario = Scenario.objects.get(slug="cache-scaling")
    step = scenario.steps.get(action="cache.add_shards")
    step.text, step.action, step.params = OLD_SHARDS_STEP, "", {}
    step.save()
    scenario.steps.filter(action="cache.add_replicas").delete()  # as a database seeded before

    seed_aws_scenarios(lambda _: None)
    seed_aws_scenarios(lambda _: None)

    step.refresh_from_db()
    assert (step.action, step.params) == ("cache.add_shards", {"group": "nexus-redis"})
    assert step.text.startswith("Add shards")
    assert scenario.steps.filter(action="cache.add_replicas").count() == 1
