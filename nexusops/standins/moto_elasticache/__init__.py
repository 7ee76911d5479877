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

from moto.core.responses import ActionResult
from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup
from moto.elasticache.responses import ElastiCacheResponse
from moto.moto_api import state_manager

from .group import MODEL, available, settle
from .replicas import change_replica_count
from .shards import modify_shard_configuration

__all__ = ["MODEL", "OPERATIONS", "install"]
log = logging.getLogger(__name__)


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
            settle(group, advance=True)
        return groups

    def modify_replication_group(
        self: ElastiCacheBackend, replication_group_id: str, *args: Any, **kwargs: Any
    ) -> ReplicationGroup:
        available(self, replication_group_id)
        return modify(self, replication_group_id, *args, **kwargs)

    ElastiCacheBackend.describe_replication_groups = describe_replication_groups  # type: ignore[method-assign]
    ElastiCacheBackend.modify_replication_group = modify_replication_group  # type: ignore[method-assign]
