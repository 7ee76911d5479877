"""The ElastiCache operations the stand-in adds to moto (``nexusops.standins.moto_elasticache``):
boto3 over HTTP against the extended moto server, each documented refusal by its AWS error
code, and the ``modifying`` → ``available`` transition through moto's state manager."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from botocore.exceptions import ClientError

from nexusops.standins import moto_elasticache


@pytest.fixture
def cache(boto):  # noqa: ANN201 - a boto3 ElastiCache client on a fresh moto
    return boto("elasticache")


def _cluster(cache, name: str = "nexus-cache", shards: int = 2, replicas: int = 1) -> None:
    cache.create_replication_group(
        ReplicationGroupId=name, ReplicationGroupDescription="test", Engine="redis",
        CacheNodeType="cache.r6g.large", NumNodeGroups=shards, ReplicasPerNodeGroup=replicas,
        ClusterMode="enabled",
    )  # fmt: skip


def _group(cache, name: str = "nexus-cache") -> dict:
    return cache.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]


def _shape(group: dict) -> dict[str, list[str]]:
    return {
        s["NodeGroupId"]: [m["CacheClusterId"] for m in s["NodeGroupMembers"]]
        for s in group["NodeGroups"]
    }


def _code(call) -> str:  # noqa: ANN001
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
    return refused.value.response["Error"]["Code"]


@pytest.fixture
def slow_changes(moto_url: str) -> Iterator[None]:
    """Changes stay ``modifying`` for two describes (the default completes on the first)."""
    api = f"{moto_url}/moto-api/state-manager"
    requests.post(f"{api}/set-transition", timeout=5, json={
        "model_name": moto_elasticache.MODEL,
        "transition": {"progression": "manual", "times": 2},
    }).raise_for_status()  # fmt: skip
    yield
    requests.post(f"{api}/unset-transition", json={"model_name": moto_elasticache.MODEL},
                  timeout=5).raise_for_status()  # fmt: skip


def test_moto_lacks_the_operations_the_stand_in_adds():
    # If a newer moto implements one, install() leaves it to moto and this list shrinks:
    # the README's AWS section must then say so.
    assert moto_elasticache.install() == list(moto_elasticache.OPERATIONS)


def test_adding_a_shard_is_modifying_then_available_with_slots_spread(cache, slow_changes):
    _cluster(cache)

    answer = cache.modify_replication_group_shard_configuration(
        ReplicationGroupId="nexus-cache", NodeGroupCount=3, ApplyImmediately=True
    )["ReplicationGroup"]

    assert answer["Status"] == "modifying"
    assert answer["PendingModifiedValues"]["Resharding"]["SlotMigration"] == {
        "ProgressPercentage": 0.0
    }
    assert len(answer["NodeGroups"]) == 2  # the new shape shows once it is done
    assert _group(cache)["Status"] == "modifying"
    assert _code(lambda: cache.increase_replica_count(
        ReplicationGroupId="nexus-cache", NewReplicaCount=2, ApplyImmediately=True,
    )) == "InvalidReplicationGroupState"  # fmt: skip
    assert _code(lambda: cache.modify_replication_group(
        ReplicationGroupId="nexus-cache", CacheNodeType="cache.r6g.xlarge", ApplyImmediately=True,
    )) == "InvalidReplicationGroupState"  # fmt: skip

    done = _group(cache)
    assert done["Status"] == "available" and "PendingModifiedValues" not in done
    assert _shape(done) == {
        "0001": ["nexus-cache-0001-001", "nexus-cache-0001-002"],
        "0002": ["nexus-cache-0002-001", "nexus-cache-0002-002"],
        "0003": ["nexus-cache-0003-001", "nexus-cache-0003-002"],  # as big as the smallest
    }
    assert [s["Slots"] for s in done["NodeGroups"]] == ["0-5460", "5461-10921", "10922-16383"]
    assert len(done["MemberClusters"]) == 6


def test_removing_shards_names_them_and_rebalancing_keeps_them(cache):
    _cluster(cache, shards=4, replicas=0)
    cache.modify_replication_group_shard_configuration(
        ReplicationGroupId="nexus-cache", NodeGroupCount=2, ApplyImmediately=True,
        NodeGroupsToRemove=["0002", "0004"],
    )  # fmt: skip
    assert list(_shape(_group(cache))) == ["0001", "0003"]

    cache.modify_replication_group_shard_configuration(
        ReplicationGroupId="nexus-cache", NodeGroupCount=1, ApplyImmediately=True,
        NodeGroupsToRetain=["0003"],
    )  # fmt: skip
    assert _shape(_group(cache)) == {"0003": ["nexus-cache-0003-001"]}

    cache.modify_replication_group_shard_configuration(
        ReplicationGroupId="nexus-cache", NodeGroupCount=1, ApplyImmediately=True
    )  # the same count: a rebalance
    assert _group(cache)["NodeGroups"][0]["Slots"] == "0-16383"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"ReplicationGroupId": "no-such-group", "NodeGroupCount": 3},
         "ReplicationGroupNotFoundFault"),
        ({"NodeGroupCount": 3, "ApplyImmediately": False}, "InvalidParameterValue"),
        ({"NodeGroupCount": 0}, "InvalidParameterValue"),
        ({"NodeGroupCount": 91}, "NodeGroupsPerReplicationGroupQuotaExceeded"),
        ({"NodeGroupCount": 31}, "NodeQuotaForCustomerExceeded"),  # 31 × 3 nodes > 90
        ({"NodeGroupCount": 1}, "InvalidParameterCombination"),  # which one goes?
        ({"NodeGroupCount": 1, "NodeGroupsToRemove": ["0001"],
          "NodeGroupsToRetain": ["0002"]}, "InvalidParameterCombination"),
        ({"NodeGroupCount": 1, "NodeGroupsToRemove": ["0009"]}, "InvalidParameterValue"),
        ({"NodeGroupCount": 1, "NodeGroupsToRetain": ["0001", "0002"]}, "InvalidParameterValue"),
        ({"NodeGroupCount": 3, "NodeGroupsToRemove": ["0001"]}, "InvalidParameterCombination"),
        ({"NodeGroupCount": 2, "ReshardingConfiguration": [
            {"PreferredAvailabilityZones": ["us-east-1a"]}]}, "InvalidParameterCombination"),
        ({"NodeGroupCount": 3, "ReshardingConfiguration": [
            {"PreferredAvailabilityZones": ["us-east-1a"]},
            {"PreferredAvailabilityZones": ["us-east-1b"]}]}, "InvalidParameterValue"),
    ],
)  # fmt: skip
def test_shard_changes_refused_as_aws_documents(cache, moto_url, call, code):
    _cluster(cache, replicas=2)
    before = _group(cache)
    call = {"ReplicationGroupId": "nexus-cache", "ApplyImmediately": True, **call}

    assert _code(lambda: cache.modify_replication_group_shard_configuration(**call)) == code

    assert _group(cache) == before  # a refused request changes nothing


def test_cluster_mode_disabled_groups_keep_one_shard(cache):
    cache.create_replication_group(
        ReplicationGroupId="nexus-sessions", ReplicationGroupDescription="test", Engine="redis",
        CacheNodeType="cache.r6g.large", NumCacheClusters=2,
    )  # fmt: skip
    assert _code(lambda: cache.modify_replication_group_shard_configuration(
        ReplicationGroupId="nexus-sessions", NodeGroupCount=2, ApplyImmediately=True,
    )) == "InvalidParameterValue"  # fmt: skip

    # ... but take replicas, named as ElastiCache names a cluster-mode-disabled group's nodes
    cache.increase_replica_count(
        ReplicationGroupId="nexus-sessions", NewReplicaCount=2, ApplyImmediately=True
    )
    group = _group(cache, "nexus-sessions")
    assert group["MemberClusters"] == ["nexus-sessions-001", "nexus-sessions-002",
                                       "nexus-sessions-003"]  # fmt: skip
    new = group["NodeGroups"][0]["NodeGroupMembers"][-1]
    assert new["CurrentRole"] == "replica"
    assert new["ReadEndpoint"]["Address"].startswith("nexus-sessions-003.")


def test_replicas_go_up_per_shard_or_everywhere_and_come_down_again(cache):
    _cluster(cache)
    answer = cache.increase_replica_count(
        ReplicationGroupId="nexus-cache", ApplyImmediately=True,
        ReplicaConfiguration=[{"NodeGroupId": "0002", "NewReplicaCount": 3,
                               "PreferredAvailabilityZones": ["us-east-1a", "us-east-1b",
                                                              "us-east-1c", "us-east-1d"]}],
    )["ReplicationGroup"]  # fmt: skip
    assert answer["Status"] == "modifying"
    assert [s["Status"] for s in answer["NodeGroups"]] == ["available", "modifying"]
    group = _group(cache)
    assert [len(m) for m in _shape(group).values()] == [2, 4]
    assert group["NodeGroups"][1]["NodeGroupMembers"][-1]["PreferredAvailabilityZone"] == (
        "us-east-1d"
    )

    cache.increase_replica_count(
        ReplicationGroupId="nexus-cache", NewReplicaCount=3, ApplyImmediately=True
    )
    assert [len(m) for m in _shape(_group(cache)).values()] == [4, 4]
    assert "nexus-cache-0001-004" in _group(cache)["MemberClusters"]

    cache.decrease_replica_count(
        ReplicationGroupId="nexus-cache", ApplyImmediately=True,
        ReplicasToRemove=["nexus-cache-0001-002"],
    )  # fmt: skip
    assert _shape(_group(cache))["0001"] == [
        "nexus-cache-0001-001", "nexus-cache-0001-003", "nexus-cache-0001-004"]  # fmt: skip
    cache.decrease_replica_count(
        ReplicationGroupId="nexus-cache", NewReplicaCount=0, ApplyImmediately=True
    )
    assert _group(cache)["MemberClusters"] == ["nexus-cache-0001-001", "nexus-cache-0002-001"]


@pytest.mark.parametrize(
    ("operation", "call", "code"),
    [
        ("increase", {"ReplicationGroupId": "no-such-group", "NewReplicaCount": 2},
         "ReplicationGroupNotFoundFault"),
        ("increase", {"NewReplicaCount": 2, "ApplyImmediately": False}, "InvalidParameterValue"),
        ("increase", {}, "InvalidParameterValue"),
        ("increase", {"NewReplicaCount": 6}, "InvalidParameterValue"),
        ("increase", {"NewReplicaCount": 0}, "InvalidParameterValue"),  # fewer is not more
        ("increase", {"NewReplicaCount": 1}, "NoOperationFault"),
        ("increase", {"NewReplicaCount": 2, "ReplicaConfiguration": [
            {"NodeGroupId": "0001", "NewReplicaCount": 2}]}, "InvalidParameterCombination"),
        ("increase", {"ReplicaConfiguration": [{"NodeGroupId": "0007", "NewReplicaCount": 2}]},
         "InvalidParameterValue"),
        ("increase", {"ReplicaConfiguration": [
            {"NodeGroupId": "0001", "NewReplicaCount": 2},
            {"NodeGroupId": "0001", "NewReplicaCount": 3}]}, "InvalidParameterValue"),
        ("increase", {"ReplicaConfiguration": [{
            "NodeGroupId": "0001", "NewReplicaCount": 2,
            "PreferredAvailabilityZones": ["us-east-1a"]}]}, "InvalidParameterValue"),
        ("decrease", {"NewReplicaCount": 2}, "InvalidParameterValue"),  # more is not fewer
        ("decrease", {"ReplicasToRemove": ["nexus-cache-0001-001"]}, "InvalidParameterValue"),
        ("decrease", {"ReplicasToRemove": ["other-0001-002"]}, "InvalidParameterValue"),
    ],
)  # fmt: skip
def test_replica_changes_refused_as_aws_documents(cache, operation, call, code):
    _cluster(cache)
    before = _group(cache)
    call = {"ReplicationGroupId": "nexus-cache", "ApplyImmediately": True, **call}
    method = cache.increase_replica_count if operation == "increase" else (
        cache.decrease_replica_count)  # fmt: skip

    assert _code(lambda: method(**call)) == code

    assert _group(cache) == before


def test_the_node_quota_counts_every_shard(cache):
    _cluster(cache, shards=20, replicas=2)  # 60 nodes; 5 replicas each would be 120
    assert _code(lambda: cache.increase_replica_count(
        ReplicationGroupId="nexus-cache", NewReplicaCount=5, ApplyImmediately=True,
    )) == "NodeQuotaForCustomerExceeded"  # fmt: skip


def test_a_reset_forgets_a_change_in_progress(cache, moto_url, slow_changes):
    _cluster(cache)
    cache.increase_replica_count(
        ReplicationGroupId="nexus-cache", NewReplicaCount=2, ApplyImmediately=True
    )
    requests.post(f"{moto_url}/moto-api/reset", timeout=5).raise_for_status()
    _cluster(cache)
    assert _group(cache)["Status"] == "available"
