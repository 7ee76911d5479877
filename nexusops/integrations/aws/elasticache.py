"""ElastiCache for Redis (runbook 3.3): a replication group's shape, its memory and evictions,
a larger node type, more shards and more replicas.

The runbook's "Add shards or increase node type": ``modify-replication-group
--cache-node-type``, ``modify-replication-group-shard-configuration`` (online resharding,
cluster mode enabled only) and ``increase-replica-count``. moto 5.2.5 lacks the last two; the
stand-in process adds them to moto (``nexusops.standins.moto_elasticache``), so the tests and
the demo run these calls over HTTP like the others.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .cloudwatch import CloudWatchOperations
from .errors import InvalidArgument

_GROUP_ID = re.compile(r"[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)")
_SIZES = r"(micro|small|medium|large|xlarge|\d{1,2}xlarge)"
_NODE_TYPE = re.compile(rf"cache\.[a-z][a-z0-9-]{{0,10}}\.{_SIZES}")
MAX_SHARDS = 90  # AWS's default quotas: node groups per replication group, nodes per cluster
MAX_NODES = 90
MAX_REPLICAS = 5  # per shard, AWS's hard limit


def group_id(value: str) -> str:
    if not isinstance(value, str) or not _GROUP_ID.fullmatch(value):
        raise InvalidArgument(
            f"{value!r} is not a replication group id (a lowercase letter, then up to 39 "
            "lowercase letters, digits or single hyphens)"
        )
    return value


def node_type(value: str) -> str:
    if not isinstance(value, str) or not _NODE_TYPE.fullmatch(value):
        raise InvalidArgument(f"{value!r} is not an ElastiCache node type (e.g. cache.r6g.large)")
    return value


def _summary(group: dict[str, Any]) -> dict[str, Any]:
    shards = group.get("NodeGroups") or []
    return {
        "id": group["ReplicationGroupId"],
        "status": group.get("Status", ""),
        "node_type": group.get("CacheNodeType", ""),
        "cluster_mode": bool(group.get("ClusterEnabled")),
        "shards": len(shards),
        "nodes_per_shard": [len(s.get("NodeGroupMembers") or []) for s in shards],
        "replicas_per_shard": [max(len(s.get("NodeGroupMembers") or []) - 1, 0) for s in shards],
        # moto lists each member once per shard it scans; the set is what exists
        "members": sorted(set(group.get("MemberClusters") or [])),
        "pending": group.get("PendingModifiedValues") or {},
    }


class ElastiCacheOperations(CloudWatchOperations):
    def cache_group(self, replication_group: str) -> dict[str, Any]:
        group_id(replication_group)
        with self._vendor_errors(f"describing replication group {replication_group}"):
            found = self._elasticache.describe_replication_groups(
                ReplicationGroupId=replication_group
            )["ReplicationGroups"][0]
        return _summary(found)

    def cache_memory(self, replication_group: str, *, minutes: int = 15) -> dict[str, Any]:
        """Each node's ``DatabaseMemoryUsagePercentage`` and ``Evictions`` (runbook 3.3)."""
        group = self.cache_group(replication_group)
        nodes = []
        for member in group["members"]:
            dims = {"CacheClusterId": member}
            memory = self.metric_recent(
                "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims, minutes=minutes,
                statistic="Maximum",
            )  # fmt: skip
            evictions = self.metric_recent(
                "AWS/ElastiCache", "Evictions", dims, minutes=minutes, statistic="Sum"
            )
            nodes.append(
                {
                    "node": member,
                    "memory_percent": memory["latest"],
                    "max_memory_percent": memory["max"],
                    "evictions": sum(p["value"] for p in evictions["points"])
                    if evictions["points"]
                    else None,
                }
            )
        return {"group": group, "minutes": minutes, "nodes": nodes}

    def cache_scale_up(
        self,
        replication_group: str,
        target_type: str,
        *,
        expect_type: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """``modify-replication-group --cache-node-type T --apply-immediately``."""
        group_id(replication_group)
        node_type(target_type)
        group = self.cache_group(replication_group)
        if expect_type and group["node_type"] != expect_type:
            raise InvalidArgument(
                f"{replication_group} is {group['node_type']} now, not {expect_type} as in the "
                "approved dry run: nothing was changed"
            )
        if group["node_type"] == target_type:
            raise InvalidArgument(f"{replication_group} already runs {target_type}")
        plan = {
            "group": group,
            "from_type": group["node_type"],
            "to_type": target_type,
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        with self._vendor_errors(f"changing {replication_group} to {target_type}"):
            changed = self._elasticache.modify_replication_group(
                ReplicationGroupId=replication_group,
                CacheNodeType=target_type,
                ApplyImmediately=True,
            )["ReplicationGroup"]
        return {**plan, "after": _summary(changed)}

    def _cache_wait(self, replication_group: str, wait_seconds: float, poll_seconds: float) -> dict:
        """The group once ``available`` again, or as it is when ``wait_seconds`` run out."""
        deadline = time.monotonic() + wait_seconds
        while True:
            group = self.cache_group(replication_group)
            if group["status"] == "available" or time.monotonic() >= deadline:
                return group
            time.sleep(poll_seconds)

    def _cache_changeable(self, replication_group: str, expect: dict | None) -> dict[str, Any]:
        group = self.cache_group(replication_group)
        if group["status"] != "available":
            raise InvalidArgument(
                f"{replication_group} is {group['status']}, not available: a change is in "
                "progress; nothing was changed"
            )
        for key, value in (expect or {}).items():
            if group.get(key) != value:
                raise InvalidArgument(
                    f"{replication_group} has {key.replace('_', ' ')} {group.get(key)} now, not "
                    f"{value} as in the approved dry run: nothing was changed"
                )
        return group

    def cache_add_shards(
        self,
        replication_group: str,
        shards: int,
        *,
        expect: dict | None = None,
        dry_run: bool = False,
        wait_seconds: float = 120.0,
        poll_seconds: float = 2.0,
    ) -> dict[str, Any]:
        """``modify-replication-group-shard-configuration --node-group-count N
        --apply-immediately``: online resharding to ``shards`` shards, more than now.

        ``expect`` (what the approved dry run saw, e.g. ``{"shards": 2}``) is checked again
        before the call. New shards get as many nodes as the smallest shard has (AWS's rule).
        """
        group_id(replication_group)
        if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
            raise InvalidArgument(f"{shards!r} is not a shard count (1 to {MAX_SHARDS})")
        group = self._cache_changeable(replication_group, expect)
        if not group["cluster_mode"]:
            raise InvalidArgument(
                f"{replication_group} runs with cluster mode disabled: it keeps one shard. Add "
                "replicas or a larger node type instead"
            )
        if shards <= group["shards"]:
            raise InvalidArgument(
                f"{replication_group} has {group['shards']} shard(s): adding shards needs more "
                f"than that (asked {shards})"
            )
        per_shard = min(group["nodes_per_shard"])
        nodes = len(group["members"]) + per_shard * (shards - group["shards"])
        if nodes > MAX_NODES:
            raise InvalidArgument(
                f"{shards} shards would make {nodes} nodes, over ElastiCache's {MAX_NODES} "
                "nodes per cluster"
            )
        plan = {
            "group": group,
            "from_shards": group["shards"],
            "to_shards": shards,
            "nodes_per_new_shard": per_shard,
            "from_nodes": len(group["members"]),
            "to_nodes": nodes,
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        with self._vendor_errors(f"resharding {replication_group} to {shards} shards"):
            self._elasticache.modify_replication_group_shard_configuration(
                ReplicationGroupId=replication_group, NodeGroupCount=shards, ApplyImmediately=True
            )
        return {**plan, "after": self._cache_wait(replication_group, wait_seconds, poll_seconds)}

    def cache_add_replicas(
        self,
        replication_group: str,
        replicas: int,
        *,
        expect: dict | None = None,
        dry_run: bool = False,
        wait_seconds: float = 120.0,
        poll_seconds: float = 2.0,
    ) -> dict[str, Any]:
        """``increase-replica-count --new-replica-count N --apply-immediately``: ``replicas``
        read replicas in every shard, no shard fewer than now."""
        group_id(replication_group)
        if (
            isinstance(replicas, bool)
            or not isinstance(replicas, int)
            or not 1 <= replicas <= MAX_REPLICAS
        ):
            raise InvalidArgument(f"{replicas!r} is not a replica count (1 to {MAX_REPLICAS})")
        group = self._cache_changeable(replication_group, expect)
        now = group["replicas_per_shard"]
        if max(now) > replicas:
            raise InvalidArgument(
                f"{replication_group} has up to {max(now)} replicas in a shard already: asked "
                f"{replicas} per shard, which would remove some"
            )
        if min(now) == replicas:
            raise InvalidArgument(
                f"{replication_group} already has {replicas} replica(s) in every shard"
            )
        nodes = len(group["members"]) + sum(replicas - n for n in now)
        if nodes > MAX_NODES:
            raise InvalidArgument(
                f"{replicas} replicas per shard would make {nodes} nodes, over ElastiCache's "
                f"{MAX_NODES} nodes per cluster"
            )
        plan = {
            "group": group,
            "from_replicas": now,
            "to_replicas": replicas,
            "from_nodes": len(group["members"]),
            "to_nodes": nodes,
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        with self._vendor_errors(f"adding replicas to {replication_group}"):
            self._elasticache.increase_replica_count(
                ReplicationGroupId=replication_group,
                NewReplicaCount=replicas,
                ApplyImmediately=True,
            )
        return {**plan, "after": self._cache_wait(replication_group, wait_seconds, poll_seconds)}
