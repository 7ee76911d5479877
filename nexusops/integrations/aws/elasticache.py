"""ElastiCache for Redis (runbook 3.3): a replication group's shape, its memory and evictions,
and a larger node type.

The runbook's "Add shards or increase node type": this adapter increases the node type
(``modify-replication-group --cache-node-type``). Adding shards or replicas
(``modify-replication-group-shard-configuration``, ``increase-replica-count``) is not here:
moto, the stand-in every test runs against, does not implement those two calls, and an
operation nobody can run before production is not offered.
"""

from __future__ import annotations

import re
from typing import Any

from .cloudwatch import CloudWatchOperations
from .errors import InvalidArgument

_GROUP_ID = re.compile(r"[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)")
_SIZES = r"(micro|small|medium|large|xlarge|\d{1,2}xlarge)"
_NODE_TYPE = re.compile(rf"cache\.[a-z][a-z0-9-]{{0,10}}\.{_SIZES}")


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
