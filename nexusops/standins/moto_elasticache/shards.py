"""``ModifyReplicationGroupShardConfiguration``: add, remove or rebalance shards."""

from __future__ import annotations

from typing import Any

from moto.elasticache.exceptions import (
    InvalidParameterCombinationException,
    InvalidParameterValueException,
)
from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup

from .group import (
    MAX_NODES,
    MAX_SHARDS,
    MissingParameter,
    NodeQuotaExceeded,
    ShardQuotaExceeded,
    apply_immediately,
    available,
    begin,
    cluster_mode,
    member,
    node_count,
    rebuild_members,
    spread_slots,
    zone,
)


def _shard_ids(values: list[str] | None, existing: set[str], what: str) -> list[str]:
    ids = list(values or [])
    unknown = [i for i in ids if i not in existing]
    if unknown:
        raise InvalidParameterValueException(
            f"{what} names node groups that are not in the replication group: {', '.join(unknown)}."
        )
    if len(set(ids)) != len(ids):
        raise InvalidParameterValueException(f"{what} names a node group more than once.")
    return ids


def modify_shard_configuration(
    backend: ElastiCacheBackend, params: dict[str, Any]
) -> ReplicationGroup:
    group = available(backend, params.get("ReplicationGroupId"))
    apply_immediately(params.get("ApplyImmediately"))
    count = params.get("NodeGroupCount")
    if count is None:
        raise MissingParameter("The request must contain the parameter NodeGroupCount.")
    if not cluster_mode(group):
        raise InvalidParameterValueException(
            f"Replication group {group.replication_group_id} is not cluster mode enabled: "
            "its shards cannot be configured."
        )
    if count < 1:
        raise InvalidParameterValueException("NodeGroupCount must be at least 1.")
    if count > MAX_SHARDS:
        raise ShardQuotaExceeded(
            f"NodeGroupCount {count} exceeds the maximum of {MAX_SHARDS} node groups per "
            "replication group."
        )
    shards: list[dict] = group.node_groups
    current = len(shards)
    remove, retain = params.get("NodeGroupsToRemove"), params.get("NodeGroupsToRetain")
    resharding = params.get("ReshardingConfiguration") or []
    if resharding and count <= current:
        raise InvalidParameterCombinationException(
            "ReshardingConfiguration can be specified only when NodeGroupCount is greater than "
            f"the current number of node groups ({current})."
        )
    if (remove or retain) and count >= current:
        raise InvalidParameterCombinationException(
            "NodeGroupsToRemove and NodeGroupsToRetain apply only when NodeGroupCount is less "
            f"than the current number of node groups ({current})."
        )
    existing = {s["node_group_id"] for s in shards}
    if count < current:
        if bool(remove) == bool(retain):
            raise InvalidParameterCombinationException(
                "Either NodeGroupsToRemove or NodeGroupsToRetain is required when NodeGroupCount "
                "is less than the current number of node groups, and not both."
            )
        if remove:
            removed = set(_shard_ids(remove, existing, "NodeGroupsToRemove"))
            if len(removed) != current - count:
                raise InvalidParameterValueException(
                    f"NodeGroupsToRemove must name {current - count} node group(s) to go from "
                    f"{current} to {count}."
                )
        else:
            kept = set(_shard_ids(retain, existing, "NodeGroupsToRetain"))
            if len(kept) != count:
                raise InvalidParameterValueException(
                    f"NodeGroupsToRetain must name {count} node group(s)."
                )
            removed = existing - kept
        after = [s for s in shards if s["node_group_id"] not in removed]
        added: list[dict] = []
    else:
        if len(resharding) > count - current:
            raise InvalidParameterValueException(
                f"ReshardingConfiguration has {len(resharding)} entries for "
                f"{count - current} new node group(s)."
            )
        size = min(len(s["node_group_members"]) for s in shards)
        if node_count(shards) + size * (count - current) > MAX_NODES:
            raise NodeQuotaExceeded(
                f"{count} node groups of {size} node(s) exceed the maximum of {MAX_NODES} nodes "
                "per cluster."
            )
        top = max(int(i) for i in existing)
        added = []
        for n in range(count - current):
            zones = (resharding[n] if n < len(resharding) else {}).get("PreferredAvailabilityZones")
            shard: dict[str, Any] = {
                "node_group_id": f"{top + n + 1:04}",
                "status": "available",
                "node_group_members": [],
            }
            shard["node_group_members"] = [
                member(
                    group, shard, k + 1, zone(zones, k, "us-east-1a" if k == 0 else "us-east-1b")
                )
                for k in range(size)
            ]
            added.append(shard)
        after = shards + added

    def apply() -> None:
        group.node_groups = [*after]
        spread_slots(group.node_groups)
        rebuild_members(group)

    begin(group, apply, [])
    group.pending_modified_values = {"Resharding": {"SlotMigration": {"ProgressPercentage": 0.0}}}
    return group
