"""More ElastiCache shards and replicas (runbook 3.3): the AWS adapter with boto3 over HTTP
against moto's server, extended by the stand-in with the two operations moto lacks."""

from __future__ import annotations

import pytest
import requests

from nexusops.integrations.aws import AwsNotFound, InvalidArgument
from nexusops.standins import moto_elasticache


def _cluster(boto, name: str = "nexus-redis", shards: int = 2, replicas: int = 1) -> None:
    boto("elasticache").create_replication_group(
        ReplicationGroupId=name, ReplicationGroupDescription="sessions", Engine="redis",
        CacheNodeType="cache.r6g.large", NumNodeGroups=shards, ReplicasPerNodeGroup=replicas,
        ClusterMode="enabled",
    )  # fmt: skip


def test_add_shards_dry_run_then_run(aws, boto, moto_recorder):
    _cluster(boto)
    moto_recorder.start()

    plan = aws.cache_add_shards("nexus-redis", 3, dry_run=True)

    assert (plan["from_shards"], plan["to_shards"], plan["nodes_per_new_shard"]) == (2, 3, 2)
    assert (plan["from_nodes"], plan["to_nodes"]) == (4, 6)
    assert moto_recorder.requests() == ["DescribeReplicationGroups"]  # a dry run reads only
    assert aws.cache_group("nexus-redis")["shards"] == 2

    done = aws.cache_add_shards("nexus-redis", 3, expect={"shards": 2}, poll_seconds=0.05)

    assert done["after"]["status"] == "available" and done["after"]["shards"] == 3
    assert done["after"]["members"][-2:] == ["nexus-redis-0003-001", "nexus-redis-0003-002"]
    assert "ModifyReplicationGroupShardConfiguration" in moto_recorder.requests()


def test_add_replicas_dry_run_then_run(aws, boto):
    _cluster(boto)
    plan = aws.cache_add_replicas("nexus-redis", 3, dry_run=True)
    assert (plan["from_replicas"], plan["to_replicas"], plan["to_nodes"]) == ([1, 1], 3, 8)
    assert aws.cache_group("nexus-redis")["replicas_per_shard"] == [1, 1]

    done = aws.cache_add_replicas("nexus-redis", 3, expect={"replicas_per_shard": [1, 1]})

    assert done["after"]["replicas_per_shard"] == [3, 3]
    assert "nexus-redis-0002-004" in done["after"]["members"]


@pytest.mark.parametrize(
    ("call", "refusal"),
    [
        (lambda a: a.cache_add_shards("nexus-redis", 2), "has 2 shard(s): adding shards needs"),
        (lambda a: a.cache_add_shards("nexus-redis", 1), "has 2 shard(s)"),
        (lambda a: a.cache_add_shards("nexus-redis", 31), "over ElastiCache's 90 nodes"),
        (lambda a: a.cache_add_shards("nexus-redis", 3, expect={"shards": 3}),
         "has shards 2 now, not 3 as in the approved dry run: nothing was changed"),
        (lambda a: a.cache_add_replicas("nexus-redis", 2), "already has 2 replica(s)"),
        (lambda a: a.cache_add_replicas("nexus-redis", 1), "up to 2 replicas in a shard already"),
        (lambda a: a.cache_add_replicas("nexus-redis", 3, expect={"replicas_per_shard": [1, 1]}),
         "has replicas per shard [2, 2] now, not [1, 1] as in the approved dry run"),
    ],
)  # fmt: skip
def test_refused_after_reading_the_group_before_any_change(aws, boto, moto_recorder, call, refusal):
    _cluster(boto, replicas=2)
    moto_recorder.start()
    with pytest.raises(InvalidArgument) as refused:
        call(aws)
    assert refusal in str(refused.value)
    assert moto_recorder.requests() == ["DescribeReplicationGroups"]


def test_a_cluster_mode_disabled_group_gets_replicas_not_shards(aws, boto):
    boto("elasticache").create_replication_group(
        ReplicationGroupId="nexus-sessions", ReplicationGroupDescription="sessions",
        Engine="redis", CacheNodeType="cache.r6g.large", NumCacheClusters=2,
    )  # fmt: skip
    with pytest.raises(InvalidArgument, match="cluster mode disabled: it keeps one shard"):
        aws.cache_add_shards("nexus-sessions", 2)
    assert aws.cache_add_replicas("nexus-sessions", 2)["after"]["members"] == [
        "nexus-sessions-001", "nexus-sessions-002", "nexus-sessions-003"]  # fmt: skip


def test_a_group_still_modifying_is_left_alone_and_a_slow_change_is_reported(
    aws, boto, moto_url, moto_recorder
):
    _cluster(boto)
    api = f"{moto_url}/moto-api/state-manager"
    requests.post(f"{api}/set-transition", timeout=5, json={
        "model_name": moto_elasticache.MODEL,
        "transition": {"progression": "manual", "times": 100},
    }).raise_for_status()  # fmt: skip
    try:
        done = aws.cache_add_shards("nexus-redis", 3, wait_seconds=0.3, poll_seconds=0.05)
        assert done["after"]["status"] == "modifying"  # not waited out: said as it is
        assert done["after"]["shards"] == 2
        moto_recorder.start()
        with pytest.raises(InvalidArgument, match="is modifying, not available"):
            aws.cache_add_replicas("nexus-redis", 2)
        assert moto_recorder.requests() == ["DescribeReplicationGroups"]
    finally:
        requests.post(f"{api}/unset-transition", json={"model_name": moto_elasticache.MODEL},
                      timeout=5).raise_for_status()  # fmt: skip


@pytest.mark.parametrize(
    ("call", "refusal"),
    [
        (lambda a: a.cache_add_shards("Nexus_Redis", 3), "not a replication group id"),
        (lambda a: a.cache_add_shards("nexus-redis", 0), "not a shard count"),
        (lambda a: a.cache_add_shards("nexus-redis", 91), "not a shard count"),
        (lambda a: a.cache_add_replicas("nexus-redis", 6), "not a replica count"),
        (lambda a: a.cache_add_replicas("nexus-redis", True), "not a replica count"),
    ],
)
def test_bad_arguments_send_nothing(aws, moto_recorder, call, refusal):
    with pytest.raises(InvalidArgument, match=refusal):
        call(aws)
    assert moto_recorder.requests() == []


def test_an_unknown_group_is_not_found(aws):
    with pytest.raises(AwsNotFound):
        aws.cache_add_replicas("no-such-group", 2, dry_run=True)
