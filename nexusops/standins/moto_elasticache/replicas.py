"""``IncreaseReplicaCount`` and ``DecreaseReplicaCount``: read replicas per shard."""

from __future__ import annotations

from typing import Any

from moto.elasticache.exceptions import (
    InvalidParameterCombinationException,
    InvalidParameterValueException,
)
from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup

from .group import (
    MAX_NODES,
    MAX_REPLICAS,
    InvalidReplicationGroupState,
    MissingParameter,
    NodeQuotaExceeded,
    NoOperation,
    apply_immediately,
    available,
    begin,
    cluster_mode,
    member,
    node_count,
    rebuild_members,
    replica_count,
    zone,
)


def _targets(
    group: ReplicationGroup, params: dict[str, Any], *, increase: bool
) -> dict[str, tuple[int, list[str] | None]]:
    """Each shard to change: its new replica count and preferred zones."""
    shards = {s["node_group_id"]: s for s in group.node_groups}
    if not cluster_mode(group) and len(shards) != 1:
        raise InvalidReplicationGroupState(
            f"Replication group {group.replication_group_id} is cluster mode disabled with "
            f"{len(shards)} node groups; ElastiCache allows one."
        )
    count, config = params.get("NewReplicaCount"), params.get("ReplicaConfiguration")
    to_remove = params.get("ReplicasToRemove")
    given = [n for n, v in (("NewReplicaCount", count), ("ReplicaConfiguration", config),
                            ("ReplicasToRemove", to_remove)) if v not in (None, [])]  # fmt: skip
    if not given:
        raise InvalidParameterValueException(
            "Either NewReplicaCount or ReplicaConfiguration is required"
            + ("." if increase else ", or ReplicasToRemove.")
        )
    if len(given) > 1:
        raise InvalidParameterCombinationException(f"Specify only one of {' and '.join(given)}.")
    wanted: dict[str, tuple[int, list[str] | None]] = {}
    if count is not None:
        wanted = {i: (count, None) for i in shards}
    elif config:
        for entry in config:
            shard_id = entry.get("NodeGroupId")
            if shard_id not in shards:
                raise InvalidParameterValueException(
                    f"Node group {shard_id} is not in replication group "
                    f"{group.replication_group_id}."
                )
            if shard_id in wanted:
                raise InvalidParameterValueException(
                    f"ReplicaConfiguration names node group {shard_id} more than once."
                )
            if entry.get("NewReplicaCount") is None:
                raise MissingParameter("Each ConfigureShard needs NewReplicaCount.")
            zones = entry.get("PreferredAvailabilityZones") or None
            if zones is not None and len(zones) != entry["NewReplicaCount"] + 1:
                raise InvalidParameterValueException(
                    f"Node group {shard_id}: PreferredAvailabilityZones must hold "
                    f"NewReplicaCount + 1 = {entry['NewReplicaCount'] + 1} zones."
                )
            wanted[shard_id] = (entry["NewReplicaCount"], zones)
    else:
        members = {
            m["cache_cluster_id"]: (i, n)
            for i, s in shards.items()
            for n, m in enumerate(s["node_group_members"])
        }
        for node in to_remove:
            if node not in members:
                raise InvalidParameterValueException(
                    f"{node} is not a node of replication group {group.replication_group_id}."
                )
            if members[node][1] == 0:
                raise InvalidParameterValueException(f"{node} is a primary node, not a replica.")
        for shard_id in {members[node][0] for node in to_remove}:
            gone = sum(1 for node in set(to_remove) if members[node][0] == shard_id)
            wanted[shard_id] = (replica_count(shards[shard_id]) - gone, None)
    least = 1 if not cluster_mode(group) and group.multi_az == "enabled" else 0
    for shard_id, (n, _) in wanted.items():
        if n > MAX_REPLICAS or n < least:
            raise InvalidParameterValueException(
                f"Node group {shard_id}: the replica count must be between {least} and "
                f"{MAX_REPLICAS}, not {n}."
            )
        now = replica_count(shards[shard_id])
        if increase and n < now or not increase and n > now:
            verb = "increase" if increase else "decrease"
            raise InvalidParameterValueException(
                f"Node group {shard_id} has {now} replica(s): {n} would not {verb} it."
            )
    changed = {i: w for i, w in wanted.items() if w[0] != replica_count(shards[i])}
    if not changed:
        raise NoOperation("The replica counts already are as requested: nothing to do.")
    total = node_count(list(shards.values())) + sum(
        n - replica_count(shards[i]) for i, (n, _) in changed.items()
    )
    if total > MAX_NODES:
        raise NodeQuotaExceeded(
            f"{total} nodes exceed the maximum of {MAX_NODES} nodes per cluster."
        )
    return changed


def change_replica_count(
    backend: ElastiCacheBackend, params: dict[str, Any], *, increase: bool
) -> ReplicationGroup:
    group = available(backend, params.get("ReplicationGroupId"))
    apply_immediately(params.get("ApplyImmediately"))
    changed = _targets(group, params, increase=increase)
    shards = {s["node_group_id"]: s for s in group.node_groups}
    to_remove = set(params.get("ReplicasToRemove") or [])

    def apply() -> None:
        for shard_id, (n, zones) in changed.items():
            shard = shards[shard_id]
            members = shard["node_group_members"]
            if to_remove:
                shard["node_group_members"] = [
                    m for m in members if m["cache_cluster_id"] not in to_remove
                ]
                continue
            if n < len(members) - 1:
                shard["node_group_members"] = members[: n + 1]
                continue
            taken = {m["cache_cluster_id"] for m in members}
            number = 2
            while len(members) < n + 1:
                new = member(group, shard, number, zone(zones, len(members), "us-east-1b"))
                if new["cache_cluster_id"] not in taken:
                    members.append(new)
                number += 1
        rebuild_members(group)

    begin(group, apply, [shards[i] for i in changed])
    return group
