"""RDS scaling (runbook 3.2, 4.4): read replicas, promoting one, resizing the instance class,
and how far a replica is behind.

Every write checks its arguments first (nothing is sent for a malformed identifier or class)
and then describes the instances it touches, so a dry run says what would change from what.
"""

from __future__ import annotations

import re
from typing import Any

from .cloudwatch import CloudWatchOperations
from .connection import iso
from .errors import AwsNotFound, InvalidArgument
from .rds import _db_identifier

_SIZES = r"(nano|micro|small|medium|large|xlarge|\d{1,2}xlarge|metal(-\d{1,2}xl)?)"
_INSTANCE_CLASS = re.compile(rf"db\.([a-z][a-z0-9-]{{0,10}}\.{_SIZES}|serverless)")


def instance_class(value: str) -> str:
    """``db.r6g.xlarge`` and its kind; anything else is refused before a call."""
    if not isinstance(value, str) or not _INSTANCE_CLASS.fullmatch(value):
        raise InvalidArgument(
            f"{value!r} is not an RDS instance class (e.g. db.r6g.large, db.m5.2xlarge)"
        )
    return value


def _summary(instance: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": instance["DBInstanceIdentifier"],
        "class": instance.get("DBInstanceClass", ""),
        "status": instance.get("DBInstanceStatus", ""),
        "engine": instance.get("Engine", ""),
        "replica_of": instance.get("ReadReplicaSourceDBInstanceIdentifier") or None,
        "replicas": list(instance.get("ReadReplicaDBInstanceIdentifiers") or []),
        "pending": instance.get("PendingModifiedValues") or {},
        "status_infos": instance.get("StatusInfos") or [],
        "arn": instance.get("DBInstanceArn", ""),
        "created": iso(instance.get("InstanceCreateTime")),
    }


class RdsScalingOperations(CloudWatchOperations):
    def rds_instance(self, instance_id: str) -> dict[str, Any]:
        """One instance as the actions show it (class, status, replica of, replicas)."""
        _db_identifier(instance_id, "DB instance")
        with self._vendor_errors(f"describing DB instance {instance_id}"):
            found = self._rds.describe_db_instances(DBInstanceIdentifier=instance_id)
        return _summary(found["DBInstances"][0])

    def _absent(self, instance_id: str) -> None:
        try:
            self.rds_instance(instance_id)
        except AwsNotFound:
            return
        raise InvalidArgument(f"a DB instance {instance_id!r} already exists")

    def rds_create_read_replica(
        self,
        source_id: str,
        replica_id: str,
        *,
        replica_class: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """``create-db-instance-read-replica`` (runbook 3.2): a new replica of ``source_id``."""
        _db_identifier(source_id, "source instance")
        _db_identifier(replica_id, "replica")
        if replica_class is not None:
            instance_class(replica_class)
        if source_id == replica_id:
            raise InvalidArgument("the replica needs a name of its own")
        source = self.rds_instance(source_id)
        self._absent(replica_id)
        plan = {
            "source": source,
            "replica_id": replica_id,
            "replica_class": replica_class or source["class"],
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        extra = {"DBInstanceClass": replica_class} if replica_class else {}
        with self._vendor_errors(f"creating read replica {replica_id} of {source_id}"):
            created = self._rds.create_db_instance_read_replica(
                DBInstanceIdentifier=replica_id, SourceDBInstanceIdentifier=source_id, **extra
            )["DBInstance"]
        return {**plan, "replica": _summary(created)}

    def rds_promote_read_replica(self, replica_id: str, *, dry_run: bool = False) -> dict[str, Any]:
        """``promote-read-replica`` (runbook 4.4): the replica becomes a standalone primary.

        Refused when the instance is not a replica; replication from the old source stops for
        good, which is why the action is approved by a second person.
        """
        replica = self.rds_instance(replica_id)
        if not replica["replica_of"]:
            raise InvalidArgument(
                f"{replica_id} is not a read replica: there is nothing to promote"
            )
        plan = {"replica": replica, "source": replica["replica_of"], "dry_run": dry_run}
        if dry_run:
            return plan
        with self._vendor_errors(f"promoting read replica {replica_id}"):
            promoted = self._rds.promote_read_replica(DBInstanceIdentifier=replica_id)
        return {**plan, "promoted": _summary(promoted["DBInstance"])}

    def rds_resize(
        self,
        instance_id: str,
        target_class: str,
        *,
        apply_immediately: bool = True,
        expect_class: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """``modify-db-instance --db-instance-class`` (runbook 3.2 vertical scaling).

        ``expect_class`` is the class the approved dry run showed: if the instance has another
        by now, nothing is changed.
        """
        _db_identifier(instance_id, "DB instance")
        instance_class(target_class)
        current = self.rds_instance(instance_id)
        if expect_class and current["class"] != expect_class:
            raise InvalidArgument(
                f"{instance_id} is {current['class']} now, not {expect_class} as in the "
                "approved dry run: nothing was changed"
            )
        if current["class"] == target_class:
            raise InvalidArgument(f"{instance_id} is already {target_class}")
        plan = {
            "instance": current,
            "from_class": current["class"],
            "to_class": target_class,
            "apply_immediately": apply_immediately,
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        with self._vendor_errors(f"resizing {instance_id} to {target_class}"):
            changed = self._rds.modify_db_instance(
                DBInstanceIdentifier=instance_id,
                DBInstanceClass=target_class,
                ApplyImmediately=apply_immediately,
            )["DBInstance"]
        return {**plan, "after": _summary(changed)}

    def rds_replica_lag(self, instance_id: str, *, minutes: int = 15) -> dict[str, Any]:
        """Seconds behind for a replica, or for each replica of a primary.

        From CloudWatch's ``ReplicaLag`` (what the RDS console graphs) and the replica's
        ``StatusInfos`` (replication state and error, as describe-db-instances reports it).
        """
        instance = self.rds_instance(instance_id)
        ids = [instance_id] if instance["replica_of"] else instance["replicas"]
        replicas = []
        for rid in ids:
            info = instance if rid == instance_id else self.rds_instance(rid)
            lag = self.metric_recent(
                "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": rid}, minutes=minutes,
                statistic="Maximum",
            )  # fmt: skip
            replicas.append(
                {
                    "id": rid,
                    "source": info["replica_of"],
                    "status": info["status"],
                    "replication": [
                        f"{s.get('Status')}{' (' + s['Message'] + ')' if s.get('Message') else ''}"
                        for s in info["status_infos"]
                    ],
                    "lag_seconds": lag["latest"],
                    "max_lag_seconds": lag["max"],
                    "points": lag["points"],
                }
            )
        return {"instance": instance, "minutes": minutes, "replicas": replicas}
