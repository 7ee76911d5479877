"""The AWS steps of the runbook (issue 21): two scenarios of their own (3.2 database scaling,
3.3 cache scaling) and actions on steps of existing ones (2.3 disk space, 4.4 disaster
recovery, 5.2 file uploads, 2.3 latency).

Idempotent and kind to a manager's edits: a missing scenario is created whole; in an existing
one, a step of the seed's text that names no action gets its action, and a step is added only
when no step of that scenario has its text already.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Max

from incidents.models import Service

from .actions.rds import CUT_OVER
from .models import Scenario, ScenarioStep

D, R, F = ScenarioStep.Kind.DIAGNOSIS, ScenarioStep.Kind.RESOLUTION, ScenarioStep.Kind.FOLLOW_UP
PROD = {"instance": "nexus-prod"}
REPLICA = "nexus-prod-read-1"  # the demo's moto has it (nexusops/standins/aws_demo.py)
NEW_REPLICA = "nexus-prod-read-2"
CUT_OVER_STEPS = [(F, f"Cut-over: {text}", "", {}) for text in CUT_OVER]
GROW_FS = (
    F, "Grow the filesystem on the instance: `lsblk -f`, then `sudo growpart <device> 1` and "
    "`sudo resize2fs <partition>` (ext4) or `sudo xfs_growfs -d <mount point>` (xfs); `df -h` "
    "to confirm. The resize run's output lists the commands for its device.", "", {},
)  # fmt: skip

CACHE = {"group": "nexus-redis"}  # cluster mode enabled in the demo's moto
ADD_SHARDS = (R, "Add shards (online resharding; cluster mode enabled)", "cache.add_shards", CACHE)
ADD_REPLICAS = (R, "Or add read replicas to every shard", "cache.add_replicas", CACHE)
# What the seed said before the two actions existed: a database seeded then gets them too.
OLD_SHARDS_STEP = "Or add shards (AWS console: Modify › Add shards); not automated here"

NEW: dict[str, tuple] = {
    "database-scaling": (
        "Database scaling (RDS)", "3.2",
        "Read-heavy load, high database CPU, replicas falling behind.",
        "read replica,replica lag,replication lag,database cpu,instance class,read-heavy,rds",
        ["postgresql"],
        [
            (D, "Read replication lag of the primary's replicas", "rds.replica_lag", PROD),
            (R, "Read replicas: create one for read-heavy workloads", "rds.create_replica",
             {"source": "nexus-prod", "replica": NEW_REPLICA}),
            (R, "Update the read-only connection string to use the replica for read queries",
             "", {}),
            (R, "Vertical scaling: schedule a maintenance window and take a snapshot", "", {}),
            (R, "Modify the instance class", "rds.resize", PROD),
            (R, "Monitor performance after the resize", "", {}),
            (R, "Promote a replica to a primary (when the primary is lost)",
             "rds.promote_replica", {"replica": REPLICA}),
            (R, "Connection pooling: raise the pool's max (20 → 30) in the database config",
             "", {}),
            *CUT_OVER_STEPS,
        ],
    ),
    "cache-scaling": (
        "Cache scaling (ElastiCache)", "3.3",
        "Redis memory near its limit, evictions, cache misses rising.",
        "evictions,eviction,redis memory,cache memory,elasticache,maxmemory,cache full",
        ["redis"],
        [
            (D, "Memory use and evictions of every node (CloudWatch)", "cache.memory",
             {"group": "nexus-redis"}),
            (D, "Redis `INFO memory`", "redis.info", {"section": "memory"}),
            (R, "Increase the node type", "cache.scale_up", {"group": "nexus-redis"}),
            ADD_SHARDS,
            ADD_REPLICAS,
            (F, "Watch memory and evictions after the change", "cache.memory",
             {"group": "nexus-redis"}),
        ],
    ),
}  # fmt: skip

# slug: [(text of an existing step, or None to add, (kind, text, action, params))]; an existing
# step still without an action takes the new text, action and params
UPGRADES: dict[str, list[tuple]] = {
    "cache-scaling": [(OLD_SHARDS_STEP, ADD_SHARDS), (None, ADD_REPLICAS)],
    "out-of-disk-space": [
        (None, (D, "List the EBS volumes: size, type and where each is attached", "ebs.volumes",
                {})),
        ("Increase EBS volume size", (R, "Increase EBS volume size", "ebs.resize", {})),
        (None, GROW_FS),
    ],
    "disaster-recovery": [
        (None, (D, "Replication lag of the DR read replica before promoting it",
                "rds.replica_lag", PROD)),
        ("Full region failure: promote the DR read replica to master",
         (R, "Full region failure: promote the DR read replica to master",
          "rds.promote_replica", {"replica": REPLICA})),
        *[(None, step) for step in CUT_OVER_STEPS],
    ],
    "file-upload-failures": [
        (None, (D, "Check the bucket's public exposure (policy, ACL, public access block)",
                "s3.exposure", {"bucket": "nexus-uploads"})),
        (None, (R, "Block public access if the bucket is exposed", "s3.block_public_access",
                {"bucket": "nexus-uploads"})),
        ("Verify IAM role permissions (nexus-content-service-role, S3Access)",
         (R, "Verify IAM role permissions (nexus-content-service-role, S3Access)",
          "iam.role_policy",
          {"role": "nexus-content-service-role", "policy": "S3Access"})),
    ],
    "high-api-latency": [
        ("Enable read replicas if database bottleneck",
         (R, "Enable read replicas if database bottleneck", "rds.create_replica",
          {"source": "nexus-prod", "replica": NEW_REPLICA})),
    ],
}  # fmt: skip


def _create(slug: str, row: tuple, order: int) -> None:
    title, section, symptoms, keywords, services, steps = row
    scenario = Scenario.objects.create(
        slug=slug, title=title, section=section, symptoms=symptoms, keywords=keywords,
        order=order,
    )  # fmt: skip
    scenario.services.set(Service.objects.filter(slug__in=services))
    for n, (kind, text, action, params) in enumerate(steps):
        ScenarioStep.objects.create(
            scenario=scenario, kind=kind, order=n, text=text, action=action, params=params
        )


def _upgrade(scenario: Scenario, changes: list[tuple]) -> int:
    done = 0
    for existing, (kind, text, action, params) in changes:
        steps = ScenarioStep.objects.filter(scenario=scenario)
        if existing is not None:
            done += steps.filter(text=existing, action="").update(
                text=text, action=action, params=params
            )
        elif not steps.filter(text=text).exists():
            last = steps.filter(kind=kind).aggregate(n=Max("order"))["n"]
            ScenarioStep.objects.create(
                scenario=scenario, kind=kind, order=(last or 0) + 1, text=text, action=action,
                params=params,
            )  # fmt: skip
            done += 1
    return done


def seed_aws_scenarios(say: Callable[[str], None]) -> None:
    created = changed = 0
    with transaction.atomic():
        top = Scenario.objects.aggregate(n=Max("order"))["n"] or 0
        for n, (slug, row) in enumerate(NEW.items(), start=1):
            if not Scenario.objects.filter(slug=slug).exists():
                _create(slug, row, top + 10 * n)
                created += 1
        for slug, changes in UPGRADES.items():
            scenario = Scenario.objects.filter(slug=slug).first()
            if scenario is not None:
                changed += _upgrade(scenario, changes)
    say(f"AWS runbook steps: {created} scenarios created, {changed} steps added or given actions")
