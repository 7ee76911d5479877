"""RDS scaling actions (runbook 3.2, 4.4): read replicas, promoting one, resizing, lag.

Creating, promoting and resizing change production databases: each shows a dry run (what the
instance is now, what it becomes) and waits for a second person. The cut-over after a
promotion is the scenario's follow-up steps, ticked on the incident.
"""

from __future__ import annotations

import json

from nexusops.integrations.aws import AwsClient
from nexusops.integrations.aws.connection import region_name
from nexusops.integrations.aws.rds import _db_identifier
from nexusops.integrations.aws.rds_scaling import instance_class

from . import REMEDIATION, ActionFailed, ActionSpec, Outcome, Param, Preview, Progress, register
from .cloud import _aws_missing

# What to do once a replica is a primary (also the follow-up steps of the scenarios).
CUT_OVER = (
    "Update the database URL in the services' secret (nexus-db-credentials) to the promoted "
    "instance's endpoint, then restart the services that read it",
    "Verify writes reach the new primary (a test row, the services' write paths)",
    "Re-create read replicas of the new primary (rds.create_replica)",
    "Keep the old primary stopped, not deleted, until the cut-over is verified",
)


def _id(what: str):  # noqa: ANN202 - a Param check
    def check(value: str) -> None:
        _db_identifier(value, what)

    return check


INSTANCE = Param("instance", "DB instance", max_length=63, default="nexus-prod",
                 check=_id("DB instance"))  # fmt: skip
REGION = Param("region", "Region", required=False, max_length=30, check=region_name,
               help="empty: AWS_REGION")  # fmt: skip


def _aws(params: dict) -> AwsClient:
    return AwsClient.from_settings(region=params.get("region"))


def _describe(i: dict) -> str:
    tail = f", replica of {i['replica_of']}" if i["replica_of"] else ""
    return f"{i['id']} ({i['class']}, {i['status']}{tail})"


def _replica_preview(params: dict) -> str:
    plan = _aws(params).rds_create_read_replica(
        params["source"], params["replica"], replica_class=params.get("replica_class"),
        dry_run=True,
    )  # fmt: skip
    return (
        f"Create read replica {plan['replica_id']} ({plan['replica_class']}) of "
        f"{_describe(plan['source'])}. It replicates asynchronously; send only reads to it."
    )


def _replica(params: dict, progress: Progress) -> Outcome:
    done = _aws(params).rds_create_read_replica(
        params["source"], params["replica"], replica_class=params.get("replica_class")
    )
    r = done["replica"]
    return Outcome(
        f"created read replica {r['id']} of {params['source']} ({r['class']}, {r['status']})",
        json.dumps(done, indent=2),
        done,
    )


def _promote_preview(params: dict) -> Preview:
    plan = _aws(params).rds_promote_read_replica(params["replica"], dry_run=True)
    steps = "\n".join(f"  - {s}" for s in CUT_OVER)
    return Preview(
        f"Promote {_describe(plan['replica'])} to a standalone primary. Replication from "
        f"{plan['source']} stops for good. Then the cut-over checklist:\n{steps}",
        {"source": plan["source"]},
    )


def _promote(params: dict, progress: Progress) -> Outcome:
    client = _aws(params)
    pinned = (params.get("pinned") or {}).get("source")
    now = client.rds_instance(params["replica"])
    if pinned and now["replica_of"] != pinned:
        raise ActionFailed(
            f"{params['replica']} replicates {now['replica_of'] or 'nothing'} now, not {pinned} "
            "as in the approved dry run: nothing was promoted."
        )
    done = client.rds_promote_read_replica(params["replica"])
    p = done["promoted"]
    steps = "\n".join(f"[ ] {s}" for s in CUT_OVER)
    return Outcome(
        f"promoted {p['id']} (was a replica of {done['source']}); now {p['status']}: "
        "work through the cut-over checklist",
        f"{json.dumps(done, indent=2)}\n\nCut-over checklist (the scenario's follow-up steps "
        f"on this incident):\n{steps}",
        {**done, "cut_over": list(CUT_OVER)},
    )


def _resize_preview(params: dict) -> Preview:
    plan = _aws(params).rds_resize(params["instance"], params["instance_class"], dry_run=True)
    return Preview(
        f"Change {_describe(plan['instance'])} from {plan['from_class']} to {plan['to_class']}, "
        "applied immediately: the instance restarts (a Multi-AZ instance fails over, a few "
        "minutes of errors otherwise). Runbook 3.2: take a snapshot first, then watch "
        "performance after the resize.",
        {"from_class": plan["from_class"]},
    )


def _resize(params: dict, progress: Progress) -> Outcome:
    expect = (params.get("pinned") or {}).get("from_class")
    done = _aws(params).rds_resize(params["instance"], params["instance_class"],
                                   expect_class=expect)  # fmt: skip
    after = done["after"]
    pending = after["pending"].get("DBInstanceClass")
    state = f"pending {pending}" if pending else f"now {after['class']}"
    return Outcome(
        f"{params['instance']}: {done['from_class']} → {done['to_class']} ({state}, "
        f"{after['status']})",
        json.dumps(done, indent=2),
        done,
    )


def _lag(params: dict, progress: Progress) -> Outcome:
    got = _aws(params).rds_replica_lag(params["instance"], minutes=params["minutes"])
    lines = []
    for r in got["replicas"]:
        lag = "no ReplicaLag points" if r["lag_seconds"] is None else (
            f"{r['lag_seconds']:.0f} s behind (max {r['max_lag_seconds']:.0f} s)")  # fmt: skip
        state = f"; {', '.join(r['replication'])}" if r["replication"] else ""
        lines.append(f"{r['id']} (replica of {r['source']}, {r['status']}): {lag}{state}")
    if not lines:
        return Outcome(f"{params['instance']} has no read replicas", data=got)
    worst = max((r["lag_seconds"] or 0 for r in got["replicas"]), default=0)
    return Outcome(
        f"{len(lines)} replica(s) of {params['instance']}; worst lag {worst:.0f} s "
        f"(last {params['minutes']} min)",
        "\n".join(lines),
        got,
    )


for spec in (
    ActionSpec(
        "rds.create_replica", "Create an RDS read replica", "aws", _replica, _aws_missing,
        params=(
            Param("source", "Source instance", max_length=63, default="nexus-prod",
                  check=_id("source instance")),
            Param("replica", "Replica name", max_length=63, check=_id("replica")),
            Param("replica_class", "Replica class", required=False, max_length=40,
                  check=instance_class, help="empty: the source's class"),
            REGION,
        ),
        permission=REMEDIATION, dangerous=True, preview=_replica_preview, timeout_seconds=300,
        description="aws rds create-db-instance-read-replica (runbook 3.2)",
    ),
    ActionSpec(
        "rds.promote_replica", "Promote an RDS read replica", "aws", _promote, _aws_missing,
        params=(Param("replica", "Replica", max_length=63, check=_id("replica")), REGION),
        permission=REMEDIATION, dangerous=True, preview=_promote_preview, timeout_seconds=300,
        description="aws rds promote-read-replica, then the cut-over checklist (runbook 4.4)",
    ),
    ActionSpec(
        "rds.resize", "Resize an RDS instance class", "aws", _resize, _aws_missing,
        params=(
            INSTANCE,
            Param("instance_class", "New class", max_length=40, check=instance_class,
                  help="e.g. db.r6g.2xlarge"),
            REGION,
        ),
        permission=REMEDIATION, dangerous=True, preview=_resize_preview, timeout_seconds=300,
        description="aws rds modify-db-instance --db-instance-class --apply-immediately",
    ),
    ActionSpec(
        "rds.replica_lag", "RDS replication lag", "aws", _lag, _aws_missing,
        params=(INSTANCE, Param("minutes", "Last minutes", "int", default=15, min=1, max=1440),
                REGION),
        standalone=True,
        description="CloudWatch ReplicaLag of the instance or of each of its replicas",
    ),
):  # fmt: skip
    register(spec)
