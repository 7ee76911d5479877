"""ElastiCache operations that moto (5.2.5) answers with 500 "not implemented", added to moto's
own ElastiCache backend by the stand-in process (issue 21, runbook 3.3).

The AWS stand-in stays moto's server (DESIGN rule 6): :func:`install` adds
``ModifyReplicationGroupShardConfiguration``, ``IncreaseReplicaCount`` and
``DecreaseReplicaCount`` to moto's ``ElastiCacheResponse`` (moto dispatches a query action to
the method of the same name in snake case) and keeps their state on moto's own
``ReplicationGroup`` objects, so ``/moto-api/reset``, the request recorder and
DescribeReplicationGroups treat them like moto's own. Call it in the process that runs the
server, before it serves: ``python -m nexusops.standins`` and the tests' ``moto_url`` fixture
do. Nothing here touches boto3 or any client.

As strict as the ElastiCache API reference (2015-02-02) documents:

- ``ApplyImmediately`` is required and must be true (the only value AWS accepts);
- the group must exist (``ReplicationGroupNotFoundFault``) and be ``available``
  (``InvalidReplicationGroupState``): a group that is still ``modifying`` refuses the next
  change, ``ModifyReplicationGroup`` included;
- shards: cluster mode enabled only; ``NodeGroupCount`` at least 1 and at most 90 (the default
  shards-per-group quota, ``NodeGroupsPerReplicationGroupQuotaExceeded``); fewer shards need
  exactly one of ``NodeGroupsToRemove``/``NodeGroupsToRetain`` naming existing shards, in the
  right number; ``ReshardingConfiguration`` only when adding; new shards get as many nodes as
  the smallest existing shard; every change spreads the 16,384 slots evenly again;
- replicas: ``NewReplicaCount`` (every shard) or ``ReplicaConfiguration`` (per shard), not both;
  0 to 5 replicas per shard (at least 1 on a cluster-mode-disabled group with Multi-AZ);
  increasing never lowers a shard and decreasing never raises one (``InvalidParameterValue``),
  and a request that changes nothing is ``NoOperationFault``; ``PreferredAvailabilityZones``
  holds one zone per node of the shard; at most 90 nodes in the group (the default
  nodes-per-cluster quota, answered as ``NodeQuotaForCustomerExceeded``).

Each change answers with the group ``modifying`` and the shape it had; the new shape appears
once the modification completes, through moto's state manager (model
``elasticache::replicationgroup``): by default the first DescribeReplicationGroups after the
change shows it ``available`` with its new node groups. A test that needs the group to stay
``modifying`` longer sets that model's transition over ``/moto-api/state-manager/``.

Not emulated: the slot migration's progress figure stays 0 while resharding, availability zone
names are not checked against the region, and the error texts are ours (the codes are AWS's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.elasticache.exceptions import (
    InvalidParameterCombinationException,
    InvalidParameterValueException,
    ReplicationGroupNotFound,
)
from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup
from moto.elasticache.responses import ElastiCacheResponse
from moto.moto_api import state_manager
from moto.moto_api._internal.managed_state_model import ManagedState

log = logging.getLogger(__name__)

MODEL = "elasticache::replicationgroup"
SLOTS = 16384
MAX_REPLICAS = 5
MAX_SHARDS = 90  # default quota of node groups per replication group
MAX_NODES = 90  # default quota of nodes per cluster
_PENDING = "_nexusops_modification"


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


class _Modification(ManagedState):
    """A change in progress: ``modifying`` until moto's state manager says ``available``."""

    def __init__(self, apply: Callable[[], None]) -> None:
        super().__init__(MODEL, [("modifying", "available")])
        self.apply = apply


# ---- the group's state ---------------------------------------------------------------------


def _settle(group: ReplicationGroup, *, advance: bool) -> None:
    """Complete the group's modification if the state manager says it is done."""
    pending: _Modification | None = getattr(group, _PENDING, None)
    if pending is None:
        return
    if advance:
        pending.advance()
    if pending.status == "available":
        pending.apply()
        delattr(group, _PENDING)
        group.status = "available"
        if hasattr(group, "pending_modified_values"):
            del group.pending_modified_values
        for shard in group.node_groups:
            shard["status"] = "available"


def _begin(group: ReplicationGroup, apply: Callable[[], None], shards: list[dict]) -> None:
    group.status = "modifying"
    for shard in shards:
        shard["status"] = "modifying"
    setattr(group, _PENDING, _Modification(apply))


def _available(backend: ElastiCacheBackend, group_id: str | None) -> ReplicationGroup:
    if not group_id:
        raise MissingParameter("The request must contain the parameter ReplicationGroupId.")
    # moto's dict, not DescribeReplicationGroups: only a describe moves a modification on
    group = backend.replication_groups.get(group_id)
    if group is None:
        raise ReplicationGroupNotFound(group_id)
    _settle(group, advance=False)
    if group.status != "available":
        raise InvalidReplicationGroupState(
            f"Replication group {group_id} is not in available state (it is {group.status})."
        )
    return group


def _apply_immediately(value: Any) -> None:
    if value is None:
        raise MissingParameter("The request must contain the parameter ApplyImmediately.")
    if value is not True:
        raise InvalidParameterValueException(
            "ApplyImmediately=false is not supported: the only permitted value is true."
        )


def _cluster_mode(group: ReplicationGroup) -> bool:
    return group.cluster_mode == "enabled"


def _replicas(shard: dict) -> int:
    return len(shard["node_group_members"]) - 1


def _node_count(shards: list[dict]) -> int:
    return sum(len(s["node_group_members"]) for s in shards)


def _spread_slots(shards: list[dict]) -> None:
    for n, shard in enumerate(shards):
        start, end = SLOTS * n // len(shards), SLOTS * (n + 1) // len(shards) - 1
        shard["slots"] = f"{start}-{end}"


def _rebuild_members(group: ReplicationGroup) -> None:
    group.member_clusters = [
        m["cache_cluster_id"] for s in group.node_groups for m in s["node_group_members"]
    ]


def _member(group: ReplicationGroup, shard: dict, number: int, zone: str) -> dict[str, Any]:
    """Node ``number`` (1 is the primary) of ``shard``, named as ElastiCache names it."""
    if _cluster_mode(group):
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


def _zone(zones: list[str] | None, index: int, default: str) -> str:
    return zones[index] if zones and index < len(zones) else default


# ---- ModifyReplicationGroupShardConfiguration ------------------------------------------------


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
    group = _available(backend, params.get("ReplicationGroupId"))
    _apply_immediately(params.get("ApplyImmediately"))
    count = params.get("NodeGroupCount")
    if count is None:
        raise MissingParameter("The request must contain the parameter NodeGroupCount.")
    if not _cluster_mode(group):
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
        if _node_count(shards) + size * (count - current) > MAX_NODES:
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
                _member(
                    group, shard, k + 1, _zone(zones, k, "us-east-1a" if k == 0 else "us-east-1b")
                )
                for k in range(size)
            ]
            added.append(shard)
        after = shards + added

    def apply() -> None:
        group.node_groups = [*after]
        _spread_slots(group.node_groups)
        _rebuild_members(group)

    _begin(group, apply, [])
    group.pending_modified_values = {"Resharding": {"SlotMigration": {"ProgressPercentage": 0.0}}}
    return group


# ---- IncreaseReplicaCount / DecreaseReplicaCount ---------------------------------------------


def _targets(
    group: ReplicationGroup, params: dict[str, Any], *, increase: bool
) -> dict[str, tuple[int, list[str] | None]]:
    """Each shard to change: its new replica count and preferred zones."""
    shards = {s["node_group_id"]: s for s in group.node_groups}
    if not _cluster_mode(group) and len(shards) != 1:
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
            wanted[shard_id] = (_replicas(shards[shard_id]) - gone, None)
    least = 1 if not _cluster_mode(group) and group.multi_az == "enabled" else 0
    for shard_id, (n, _) in wanted.items():
        if n > MAX_REPLICAS or n < least:
            raise InvalidParameterValueException(
                f"Node group {shard_id}: the replica count must be between {least} and "
                f"{MAX_REPLICAS}, not {n}."
            )
        now = _replicas(shards[shard_id])
        if increase and n < now or not increase and n > now:
            verb = "increase" if increase else "decrease"
            raise InvalidParameterValueException(
                f"Node group {shard_id} has {now} replica(s): {n} would not {verb} it."
            )
    changed = {i: w for i, w in wanted.items() if w[0] != _replicas(shards[i])}
    if not changed:
        raise NoOperation("The replica counts already are as requested: nothing to do.")
    total = _node_count(list(shards.values())) + sum(
        n - _replicas(shards[i]) for i, (n, _) in changed.items()
    )
    if total > MAX_NODES:
        raise NodeQuotaExceeded(
            f"{total} nodes exceed the maximum of {MAX_NODES} nodes per cluster."
        )
    return changed


def change_replica_count(
    backend: ElastiCacheBackend, params: dict[str, Any], *, increase: bool
) -> ReplicationGroup:
    group = _available(backend, params.get("ReplicationGroupId"))
    _apply_immediately(params.get("ApplyImmediately"))
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
                new = _member(group, shard, number, _zone(zones, len(members), "us-east-1b"))
                if new["cache_cluster_id"] not in taken:
                    members.append(new)
                number += 1
        _rebuild_members(group)

    _begin(group, apply, [shards[i] for i in changed])
    return group


# ---- moto's classes --------------------------------------------------------------------------


def _response_shards(self: ElastiCacheResponse) -> ActionResult:
    group = modify_shard_configuration(self.elasticache_backend, dict(self.params))
    return ActionResult({"ReplicationGroup": group})


def _response_increase(self: ElastiCacheResponse) -> ActionResult:
    group = change_replica_count(self.elasticache_backend, dict(self.params), increase=True)
    return ActionResult({"ReplicationGroup": group})


def _response_decrease(self: ElastiCacheResponse) -> ActionResult:
    group = change_replica_count(self.elasticache_backend, dict(self.params), increase=False)
    return ActionResult({"ReplicationGroup": group})


OPERATIONS: dict[str, Callable[[ElastiCacheResponse], ActionResult]] = {
    "modify_replication_group_shard_configuration": _response_shards,
    "increase_replica_count": _response_increase,
    "decrease_replica_count": _response_decrease,
}


def install() -> list[str]:
    """Add the operations moto lacks (idempotent); returns the ones added.

    An operation moto implements itself is left to moto: a newer moto then runs as it is.
    """
    if getattr(ElastiCacheResponse, "_nexusops_extended", None) is not None:
        return ElastiCacheResponse._nexusops_extended  # type: ignore[attr-defined]
    added = [name for name in OPERATIONS if not hasattr(ElastiCacheResponse, name)]
    for name in added:
        setattr(ElastiCacheResponse, name, OPERATIONS[name])
    if added:
        state_manager.register_default_transition(
            MODEL, transition={"progression": "manual", "times": 1}
        )
        _wrap_backend()
    for name in sorted(set(OPERATIONS) - set(added)):
        log.info("moto implements %s itself: using moto's", name)
    ElastiCacheResponse._nexusops_extended = added  # type: ignore[attr-defined]
    return added


def _wrap_backend() -> None:
    describe = ElastiCacheBackend.describe_replication_groups
    modify = ElastiCacheBackend.modify_replication_group

    def describe_replication_groups(
        self: ElastiCacheBackend, replication_group_id: str | None = None
    ) -> list[ReplicationGroup]:
        groups = describe(self, replication_group_id)
        for group in groups:
            _settle(group, advance=True)
        return groups

    def modify_replication_group(
        self: ElastiCacheBackend, replication_group_id: str, *args: Any, **kwargs: Any
    ) -> ReplicationGroup:
        _available(self, replication_group_id)
        return modify(self, replication_group_id, *args, **kwargs)

    ElastiCacheBackend.describe_replication_groups = describe_replication_groups  # type: ignore[method-assign]
    ElastiCacheBackend.modify_replication_group = modify_replication_group  # type: ignore[method-assign]
