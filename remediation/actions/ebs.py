"""EBS action (runbook 2.3, out of disk space): grow a volume; growing the filesystem on its
instance is the scenario's next step, a checklist item ticked on the incident."""

from __future__ import annotations

import json

from nexusops.integrations.aws import AwsClient
from nexusops.integrations.aws.connection import region_name
from nexusops.integrations.aws.ebs import MAX_GIB, volume_id

from . import (
    REMEDIATION,
    ActionFailed,
    ActionSpec,
    Outcome,
    Param,
    Preview,
    Progress,
    register,
    text_table,
)
from .cloud import _aws_missing


def _aws(params: dict) -> AwsClient:
    return AwsClient.from_settings(region=params.get("region"))


def _preview(params: dict) -> Preview:
    plan = _aws(params).ebs_resize(params["volume"], params["size_gib"], dry_run=True)
    v = plan["volume"]
    where = ", ".join(f"{a['instance']} at {a['device']}" for a in v["attachments"]) or "nothing"
    commands = "\n".join(f"  {c}" for c in plan["grow_filesystem"])
    return Preview(
        f"Grow {v['id']} ({v['type']}, attached to {where}) from {plan['from_gib']} GiB to "
        f"{plan['to_gib']} GiB. A volume cannot shrink again, and the next change to it must "
        "wait six hours. Then grow the filesystem on the instance:\n" + commands,
        {"from_gib": plan["from_gib"]},
    )


def _resize(params: dict, progress: Progress) -> Outcome:
    client = _aws(params)
    expect = (params.get("pinned") or {}).get("from_gib")
    if expect is not None:
        now = client.ebs_volume(params["volume"])["size_gib"]
        if now != expect:
            raise ActionFailed(
                f"{params['volume']} is {now} GiB now, not {expect} GiB as in the approved dry "
                "run: nothing was changed."
            )
    done = client.ebs_resize(params["volume"], params["size_gib"])
    mod = done["modification"]
    commands = "\n".join(done["grow_filesystem"])
    return Outcome(
        f"{params['volume']}: {done['from_gib']} → {done['to_gib']} GiB ({mod['state']}); "
        "next: grow the filesystem (the scenario's next step)",
        f"{json.dumps(done, indent=2)}\n\nOn the instance, once the modification is "
        f"'optimizing' or 'completed':\n{commands}",
        done,
    )


def _volumes(params: dict, progress: Progress) -> Outcome:
    volumes = _aws(params).ebs_volumes()
    rows = [
        {**v, "attached": ", ".join(f"{a['instance']} {a['device']}" for a in v["attachments"])}
        for v in volumes
    ]
    return Outcome(
        f"{len(rows)} EBS volume(s) in {params.get('region') or 'the default region'}",
        text_table(rows, ["id", "name", "size_gib", "type", "state", "attached"]),
        {"volumes": volumes},
    )


REGION = Param("region", "Region", required=False, max_length=30, check=region_name,
               help="empty: AWS_REGION")  # fmt: skip

register(
    ActionSpec(
        "ebs.volumes",
        "List EBS volumes",
        "aws",
        _volumes,
        _aws_missing,
        params=(REGION,),
        standalone=True,
        description="aws ec2 describe-volumes: size, type, where attached",
    )
)
register(
    ActionSpec(
        "ebs.resize", "Grow an EBS volume", "aws", _resize, _aws_missing,
        params=(
            Param("volume", "Volume id", max_length=21, check=volume_id,
                  help="vol-0123456789abcdef0"),
            Param("size_gib", "New size (GiB)", "int", min=2, max=MAX_GIB),
            REGION,
        ),
        permission=REMEDIATION, dangerous=True, preview=_preview, timeout_seconds=120,
        description="aws ec2 modify-volume --size (larger only), then grow the filesystem",
    )
)  # fmt: skip
