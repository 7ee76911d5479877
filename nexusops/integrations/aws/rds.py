"""RDS (runbook 4.2): point-in-time restore, checked against the instance's restorable window
first."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

from nexusops.common import clock

from .connection import Connection, iso, vendor_errors
from .errors import InvalidArgument, RestoreTimeOutOfRange

_DB_IDENTIFIER = re.compile(r"[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)")


def _db_identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not _DB_IDENTIFIER.fullmatch(value):
        raise InvalidArgument(
            f"{what} {value!r} is not a valid DB instance identifier (a "
            "letter, then up to 62 letters, digits or single hyphens)"
        )
    return value


class RdsOperations(Connection):
    def rds_restore_to_point_in_time(
        self,
        source_id: str,
        target_id: str,
        restore_time: dt.datetime,
        *,
        instance_class: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Restore ``source_id`` as of ``restore_time`` into a new instance ``target_id``.

        The time must be timezone-aware, not in the future, and inside the instance's restorable
        window (earliest restorable time .. ``LatestRestorableTime``); otherwise nothing is sent
        but the describe calls. ``dry_run`` stops after those checks and returns the plan.
        """
        _db_identifier(source_id, "source instance")
        _db_identifier(target_id, "target instance")
        if not isinstance(restore_time, dt.datetime) or restore_time.tzinfo is None:
            raise InvalidArgument("restore_time must be a timezone-aware datetime")
        restore_time = restore_time.astimezone(dt.UTC)
        now = clock.now()
        if restore_time > now:
            raise RestoreTimeOutOfRange(
                f"restore time {restore_time.isoformat()} is in the "
                f"future (now {now.isoformat(timespec='seconds')})"
            )
        with self._vendor_errors(f"describing DB instance {source_id}"):
            instance = self._rds.describe_db_instances(DBInstanceIdentifier=source_id)[
                "DBInstances"
            ][0]
        latest = instance.get("LatestRestorableTime")
        earliest = self._earliest_restorable_time(instance, now)
        if latest and restore_time > latest:
            raise RestoreTimeOutOfRange(
                f"restore time {restore_time.isoformat()} is after the latest restorable time "
                f"{latest.isoformat()} of {source_id}"
            )
        if earliest and restore_time < earliest:
            raise RestoreTimeOutOfRange(
                f"restore time {restore_time.isoformat()} is before the earliest restorable "
                f"time {earliest.isoformat()} of {source_id}"
            )
        plan = {
            "source_id": source_id,
            "target_id": target_id,
            "restore_time": restore_time.isoformat(),
            "earliest_restorable_time": iso(earliest) or None,
            "latest_restorable_time": iso(latest) or None,
            "instance_class": instance_class or instance.get("DBInstanceClass"),
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        extra = {"DBInstanceClass": instance_class} if instance_class else {}
        with self._vendor_errors(f"restoring {source_id} to {target_id}"):
            created = self._rds.restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier=source_id,
                TargetDBInstanceIdentifier=target_id,
                RestoreTime=restore_time,
                **extra,
            )["DBInstance"]
        return {
            **plan,
            "status": created.get("DBInstanceStatus", ""),
            "target_arn": created.get("DBInstanceArn", ""),
        }

    def _earliest_restorable_time(self, instance: dict, now: dt.datetime) -> dt.datetime | None:
        """AWS's restore window when it reports one, else creation time bounded by retention."""
        if instance.get("BackupRetentionPeriod") == 0:
            raise RestoreTimeOutOfRange(
                f"{instance['DBInstanceIdentifier']} has automated "
                "backups disabled: no point-in-time restore is possible"
            )
        with contextlib.suppress(*vendor_errors()):
            backups = self._rds.describe_db_instance_automated_backups(
                DBInstanceIdentifier=instance["DBInstanceIdentifier"]
            ).get("DBInstanceAutomatedBackups", [])
            windows = [
                b["RestoreWindow"]["EarliestTime"]
                for b in backups
                if b.get("RestoreWindow", {}).get("EarliestTime")
            ]
            if windows:
                return min(windows)
        created = instance.get("InstanceCreateTime")
        retention = instance.get("BackupRetentionPeriod")
        if created and retention:
            return max(created, now - dt.timedelta(days=retention))
        return created
