"""The AWS adapter (runbook 4.1-4.3): S3 (:mod:`.s3`) and RDS (:mod:`.rds`).

:mod:`.connection` builds the boto3 clients and is the one module that imports boto3/botocore.

To add one more operation: put it in the module of its service, validate the arguments, call
``self._s3`` / ``self._rds`` inside ``with self._vendor_errors("what it does"):`` (it turns
botocore errors into ours) and return plain dicts or dataclasses, never a botocore response
as it is.
"""

from __future__ import annotations

from django.conf import settings

from .rds import RdsOperations
from .s3 import S3Operations


class AwsClient(S3Operations, RdsOperations):
    """S3 and RDS for NexusOps. Build it with :meth:`from_settings`."""

    @classmethod
    def from_settings(cls) -> AwsClient:
        return cls(
            endpoint_url=getattr(settings, "AWS_ENDPOINT_URL", "") or None,
            region=getattr(settings, "AWS_REGION", "") or "us-east-1",
        )
