"""A replication group's state in moto as the added operations see and change it: the errors
they answer, a change in progress (``modifying`` until moto's state manager completes it), and
nodes, slots and members named and laid out as ElastiCache does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.elasticache.exceptions import InvalidParameterValueException, ReplicationGroupNotFound
from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup
from moto.moto_api._internal.managed_state_model import ManagedState

MODEL = "elasticache::replicationgroup"
SLOTS = 16384
MAX_REPLICAS = 5
MAX_SHARDS = 90  # default quota of node groups per replication group
MAX_NODES = 90  # default quota of nodes per cluster
PENDING = "_nexusops_modification"


class InvalidReplicationGroupState(ServiceException):
    code = "InvalidReplicationGroupState"


class NoOperation(ServiceException):
    code = "NoOperationFault"


class ShardQuotaExceeded(ServiceException):
    code = "NodeGroupsPerReplicationGroupQuotaExceeded"


class NodeQuotaExceeded(ServiceException):
    code = "NodeQuotaForCustomerExceeded"


class MissingParameter(ServiceException):
    code = "MissingParameter"


class Modification(ManagedState):
    """A change in progress: ``modifying`` until moto's state manager says ``available``."""

    def __init__(self, apply: Callable[[], None]) -> None:
        super().__init__(MODEL, [("modifying", "available")])
        self.apply = apply


# ---- the group's state ---------------------------------------------------------------------


def settle(group: ReplicationGroup, *, advance: bool) -> None:
    """Complete the group's modification if the state manager says it is done."""
    pending: Modification | None = getattr(group, PENDING, None)
    if pending is None:
        return
    if advance:
        pending.advance()
    if pending.status == "available":
        pending.apply()
        delattr(group, PENDING)
        group.status = "available"
        if hasattr(group, "pending_modified_values"):
            del group.pending_modified_values
        for shard in group.node_groups:
            shard["status"] = "available"


def begin(group: ReplicationGroup, apply: Callable[[], None], shards: list[dict]) -> None:
    group.status = "modifying"
    for shard in shards:
        shard["status"] = "modifying"
    setattr(group, PENDING, Modification(apply))


def available(backend: ElastiCacheBackend, group_id: str | None) -> ReplicationGroup:
    if not group_id:
        raise MissingParameter("The request must contain the parameter ReplicationGroupId.")
    # moto's dict, not DescribeReplicationGroups: only a describe moves a modification on
    group = backend.replication_groups.get(group_id)
    if group is None:
        raise ReplicationGroupNotFound(group_id)
    settle(group, advance=False)
    if group.status != "available":
        raise InvalidReplicationGroupState(
            f"Replication group {group_id} is not in available state (it is {group.status})."
        )
    return group


def apply_immediately(value: Any) -> None:
    if value is None:
        raise MissingParameter("The request must contain the parameter ApplyImmediately.")
    if value is not True:
        raise InvalidParameterValueException(
            "ApplyImmediately=false is not supported: the only permitted value is true."
        )


def cluster_mode(group: ReplicationGroup) -> bool:
    return group.cluster_mode == "enabled"


def replica_count(shard: dict) -> int:
    return len(shard["node_group_members"]) - 1


def node_count(shards: list[dict]) -> int:
    return sum(len(s["node_group_members"]) for s in shards)


def spread_slots(shards: list[dict]) -> None:
    for n, shard in enumerate(shards):
        start, end = SLOTS * n // len(shards), SLOTS * (n + 1) // len(shards) - 1
        shard["slots"] = f"{start}-{end}"


def rebuild_members(group: ReplicationGroup) -> None:
    group.member_clusters = [
        m["cache_cluster_id"] for s in group.node_groups for m in s["node_group_members"]
    ]


def member(group: ReplicationGroup, shard: dict, number: int, zone: str) -> dict[str, Any]:
    """Node ``number`` (1 is the primary) of ``shard``, named as ElastiCache names it."""
    if cluster_mode(group):
        cluster_id = f"{group.replication_group_id}-{shard['node_group_id']}-{number:03}"
        return {
            "cache_cluster_id": cluster_id,
            "cache_node_id": "0001",
            "preferred_availability_zone": zone,
        }
    cluster_id = f"{group.replication_group_id}-{number:03}"
    domain = shard["primary_endpoint_address"].split(".", 1)[1]
    return {
        "cache_cluster_id": cluster_id,
        "cache_node_id": "0001",
        "read_endpoint": {"address": f"{cluster_id}.{domain}", "port": group.port},
        "preferred_availability_zone": zone,
        "current_role": "primary" if number == 1 else "replica",
    }


def zone(zones: list[str] | None, index: int, default: str) -> str:
    return zones[index] if zones and index < len(zones) else default
