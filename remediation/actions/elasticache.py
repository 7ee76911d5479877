"""ElastiCache actions (runbook 3.3): memory and evictions per node, a larger node type, more
shards and more replicas per shard.

The three changes show a dry run of the group as it is and as it becomes, and wait for a second
person; the approved run checks again that the group is still what the dry run saw. Adding
shards and replicas run against moto extended by ``nexusops.standins.moto_elasticache`` in the
tests and the demo (moto 5.2.5 lacks both; see the README's AWS section).
"""

from __future__ import annotations

import json

from nexusops.integrations.aws import AwsClient
from nexusops.integrations.aws.connection import region_name
from nexusops.integrations.aws.elasticache import group_id, node_type

from . import REMEDIATION, ActionSpec, Outcome, Param, Preview, Progress, register, text_table
from .cloud import _aws_missing

GROUP = Param("group", "Replication group", max_length=40, default="nexus-redis",
              check=group_id)  # fmt: skip
REGION = Param("region", "Region", required=False, max_length=30, check=region_name,
               help="empty: AWS_REGION")  # fmt: skip


def _aws(params: dict) -> AwsClient:
    return AwsClient.from_settings(region=params.get("region"))


def _figure(value: float | None, unit: str = "") -> str:
    return "no data" if value is None else f"{value:.1f}{unit}"


def _memory(params: dict, progress: Progress) -> Outcome:
    got = _aws(params).cache_memory(params["group"], minutes=params["minutes"])
    g = got["group"]
    rows = [
        {
            "node": n["node"],
            "memory": _figure(n["memory_percent"], " %"),
            "max_memory": _figure(n["max_memory_percent"], " %"),
            "evictions": "no data" if n["evictions"] is None else f"{n['evictions']:.0f}",
        }
        for n in got["nodes"]
    ]
    peaks = [n["max_memory_percent"] for n in got["nodes"] if n["max_memory_percent"] is not None]
    evicted = sum(n["evictions"] or 0 for n in got["nodes"])
    shape = f"{_shape(g)}, {g['node_type']}"
    return Outcome(
        f"{g['id']} ({shape}): memory peak {_figure(max(peaks) if peaks else None, ' %')}, "
        f"{evicted:.0f} evictions in the last {params['minutes']} min",
        text_table(rows, ["node", "memory", "max_memory", "evictions"]),
        got,
    )


def _scale_preview(params: dict) -> Preview:
    plan = _aws(params).cache_scale_up(params["group"], params["node_type"], dry_run=True)
    g = plan["group"]
    return Preview(
        f"Change every node of {g['id']} ({g['shards']} shard(s), {len(g['members'])} nodes) "
        f"from {plan['from_type']} to {plan['to_type']}, applied immediately. ElastiCache "
        "replaces the nodes one by one; clients see failovers and a short burst of errors.",
        {"from_type": plan["from_type"]},
    )


def _scale(params: dict, progress: Progress) -> Outcome:
    expect = (params.get("pinned") or {}).get("from_type")
    done = _aws(params).cache_scale_up(params["group"], params["node_type"], expect_type=expect)
    after = done["after"]
    return Outcome(
        f"{params['group']}: {done['from_type']} → {done['to_type']} ({after['status']})",
        json.dumps(done, indent=2),
        done,
    )


def _shape(g: dict) -> str:
    replicas = sorted(set(g["replicas_per_shard"]))
    each = "/".join(str(n) for n in replicas)
    return f"{g['shards']} shard(s) × {each} replica(s), {len(g['members'])} nodes"


def _shards_preview(params: dict) -> Preview:
    plan = _aws(params).cache_add_shards(params["group"], params["shards"], dry_run=True)
    g = plan["group"]
    return Preview(
        f"Reshard {g['id']} online ({_shape(g)}, {g['node_type']}): {plan['from_shards']} → "
        f"{plan['to_shards']} shards, each new one with {plan['nodes_per_new_shard']} node(s); "
        f"{plan['from_nodes']} → {plan['to_nodes']} nodes. ElastiCache moves slots to the new "
        "shards while serving; expect higher latency and CPU until it is available again.",
        {"shards": g["shards"]},
    )


def _shards(params: dict, progress: Progress) -> Outcome:
    done = _aws(params).cache_add_shards(
        params["group"], params["shards"], expect=params.get("pinned") or None
    )
    return _changed(params["group"], done, f"{done['from_shards']} → {done['to_shards']} shards")


def _replicas_preview(params: dict) -> Preview:
    plan = _aws(params).cache_add_replicas(params["group"], params["replicas"], dry_run=True)
    g = plan["group"]
    return Preview(
        f"Add read replicas to {g['id']} ({_shape(g)}, {g['node_type']}): "
        f"{'/'.join(str(n) for n in sorted(set(plan['from_replicas'])))} → "
        f"{plan['to_replicas']} replica(s) in every shard; {plan['from_nodes']} → "
        f"{plan['to_nodes']} nodes. No downtime; each new node costs as much as the others.",
        {"replicas_per_shard": g["replicas_per_shard"]},
    )


def _replicas(params: dict, progress: Progress) -> Outcome:
    done = _aws(params).cache_add_replicas(
        params["group"], params["replicas"], expect=params.get("pinned") or None
    )
    return _changed(params["group"], done, f"{done['to_replicas']} replica(s) per shard")


def _changed(group: str, done: dict, what: str) -> Outcome:
    after = done["after"]
    if after["status"] == "available":
        summary = f"{group}: {what}, available ({_shape(after)})"
    else:  # AWS carries on; say what is known, not what is hoped
        summary = (
            f"{group}: {what} requested; still {after['status']} when the run stopped "
            "waiting (watch it with cache.memory)"
        )
    return Outcome(summary, json.dumps(done, indent=2), done)


for spec in (
    ActionSpec(
        "cache.memory", "ElastiCache memory and evictions", "aws", _memory, _aws_missing,
        params=(GROUP, Param("minutes", "Last minutes", "int", default=15, min=1, max=1440),
                REGION),
        standalone=True,
        description="CloudWatch DatabaseMemoryUsagePercentage and Evictions of every node",
    ),
    ActionSpec(
        "cache.scale_up", "Increase ElastiCache node type", "aws", _scale, _aws_missing,
        params=(GROUP, Param("node_type", "New node type", max_length=40, check=node_type,
                             help="e.g. cache.r6g.xlarge"), REGION),
        permission=REMEDIATION, dangerous=True, preview=_scale_preview, timeout_seconds=300,
        description="aws elasticache modify-replication-group --cache-node-type (runbook 3.3)",
    ),
    ActionSpec(
        "cache.add_shards", "Add ElastiCache shards", "aws", _shards, _aws_missing,
        params=(GROUP, Param("shards", "Shards in all", "int", min=2, max=90,
                             help="the new total, more than now (cluster mode enabled)"),
                REGION),
        permission=REMEDIATION, dangerous=True, preview=_shards_preview, timeout_seconds=300,
        description="aws elasticache modify-replication-group-shard-configuration "
                    "--node-group-count (runbook 3.3, online resharding)",
    ),
    ActionSpec(
        "cache.add_replicas", "Add ElastiCache replicas", "aws", _replicas, _aws_missing,
        params=(GROUP, Param("replicas", "Replicas per shard", "int", min=1, max=5,
                             help="the new count in every shard, 1 to 5"), REGION),
        permission=REMEDIATION, dangerous=True, preview=_replicas_preview, timeout_seconds=300,
        description="aws elasticache increase-replica-count --new-replica-count (runbook 3.3)",
    ),
):  # fmt: skip
    register(spec)
