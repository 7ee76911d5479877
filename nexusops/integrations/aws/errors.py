"""Errors of the AWS adapter, beyond the shared ones in ``nexusops.integrations.errors``."""

from __future__ import annotations

from nexusops.integrations.errors import VendorRejected

VENDOR = "aws"


class InvalidArgument(VendorRejected):
    """An argument is not acceptable; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid")


class AwsNotFound(VendorRejected):
    def __init__(self, message: str, *, code: str = "not_found") -> None:
        super().__init__(message, vendor=VENDOR, code=code, status=404)


class RestoreTimeOutOfRange(VendorRejected):
    """The point-in-time is in the future or outside the instance's restorable window."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="restore_time_out_of_range")
