"""EBS (runbook 2.3, out of disk space): a volume's size and attachment, growing it, and the
commands that then grow the filesystem on its instance.

A volume only ever grows: a target at or below its current size is refused after one
describe and before ``modify-volume`` (moto would accept a smaller size; AWS would not).
"""

from __future__ import annotations

import re
from typing import Any

from .connection import Connection, iso
from .errors import InvalidArgument

_VOLUME_ID = re.compile(r"vol-([0-9a-f]{8}|[0-9a-f]{17})")
MAX_GIB = 65536  # io2 Block Express; gp2/gp3 stop at 16384 and AWS says so


def volume_id(value: str) -> str:
    if not isinstance(value, str) or not _VOLUME_ID.fullmatch(value):
        raise InvalidArgument(f"{value!r} is not an EBS volume id (vol- and 8 or 17 hex digits)")
    return value


def size_gib(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GIB:
        raise InvalidArgument(f"a volume size is a whole number of GiB, 1 to {MAX_GIB}")
    return value


def grow_commands(volume: dict[str, Any]) -> list[str]:
    """What to run on the instance once the volume is bigger (runbook 2.3 step 1's second half).

    EBS only grows the block device; the partition and filesystem keep their size until these.
    """
    device = volume["attachments"][0]["device"] if volume["attachments"] else "/dev/xvdf"
    return [
        "lsblk -f   # find the disk: on Nitro instances "
        f"{device} appears as /dev/nvme<N>n1; note the partition and filesystem type",
        f"sudo growpart {device} 1   # only when the filesystem is on partition 1",
        f"sudo resize2fs {device}1   # ext4 (on the partition, or {device} without one)",
        "sudo xfs_growfs -d <mount point>   # xfs instead, e.g. /var/lib/docker",
        "df -h   # confirm the new size",
    ]


def _summary(volume: dict[str, Any]) -> dict[str, Any]:
    tags = {t.get("Key"): t.get("Value", "") for t in volume.get("Tags") or []}
    return {
        "id": volume["VolumeId"],
        "name": tags.get("Name", ""),
        "size_gib": volume.get("Size"),
        "type": volume.get("VolumeType", ""),
        "state": volume.get("State", ""),
        "az": volume.get("AvailabilityZone", ""),
        "attachments": [
            {"instance": a.get("InstanceId", ""), "device": a.get("Device", "")}
            for a in volume.get("Attachments") or []
        ],
    }


class EbsOperations(Connection):
    def ebs_volumes(self, *, limit: int = 200) -> list[dict[str, Any]]:
        """The region's volumes, largest first: which one is full is the first question."""
        found: list[dict[str, Any]] = []
        with self._vendor_errors("listing EBS volumes"):
            for page in self._ec2.get_paginator("describe_volumes").paginate(
                PaginationConfig={"MaxItems": limit}
            ):
                found += [_summary(v) for v in page.get("Volumes", [])]
        return sorted(found, key=lambda v: (-(v["size_gib"] or 0), v["id"]))

    def ebs_volume(self, volume: str) -> dict[str, Any]:
        volume_id(volume)
        with self._vendor_errors(f"describing volume {volume}"):
            found = self._ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]
        return _summary(found)

    def ebs_resize(
        self, volume: str, new_size_gib: int, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """``aws ec2 modify-volume --size`` to a larger size, then the filesystem commands."""
        volume_id(volume)
        size_gib(new_size_gib)
        current = self.ebs_volume(volume)
        if new_size_gib <= (current["size_gib"] or 0):
            raise InvalidArgument(
                f"{volume} is {current['size_gib']} GiB: a volume only grows, so the new size "
                f"must be more than that (asked {new_size_gib} GiB)"
            )
        plan = {
            "volume": current,
            "from_gib": current["size_gib"],
            "to_gib": new_size_gib,
            "grow_filesystem": grow_commands(current),
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        with self._vendor_errors(f"resizing volume {volume} to {new_size_gib} GiB"):
            mod = self._ec2.modify_volume(VolumeId=volume, Size=new_size_gib)["VolumeModification"]
        return {
            **plan,
            "modification": {
                "state": mod.get("ModificationState", ""),
                "progress": mod.get("Progress"),
                "target_gib": mod.get("TargetSize"),
                "original_gib": mod.get("OriginalSize"),
                "started": iso(mod.get("StartTime")),
            },
        }
