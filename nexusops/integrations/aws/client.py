"""The AWS adapter: S3 (:mod:`.s3`, :mod:`.s3_exposure`), IAM (:mod:`.iam`), RDS (:mod:`.rds`,
:mod:`.rds_scaling`), ElastiCache (:mod:`.elasticache`), EBS (:mod:`.ebs`) and the CloudWatch
figures they read (:mod:`.cloudwatch`).

:mod:`.connection` builds the boto3 clients and is the one module that imports boto3/botocore.

To add one more operation: put it in the module of its service, validate the arguments, call
``self._s3`` / ``self._rds`` / ``self._ec2`` ... inside ``with self._vendor_errors("what it
does"):`` (it turns botocore errors into ours) and return plain dicts or dataclasses, never a
botocore response as it is.
"""

from __future__ import annotations

from django.conf import settings

from .connection import region_name
from .ebs import EbsOperations
from .elasticache import ElastiCacheOperations
from .iam import IamOperations
from .rds import RdsOperations
from .rds_scaling import RdsScalingOperations
from .s3 import S3Operations
from .s3_exposure import S3ExposureOperations


class AwsClient(
    S3Operations,
    S3ExposureOperations,
    RdsOperations,
    RdsScalingOperations,
    ElastiCacheOperations,
    EbsOperations,
    IamOperations,
):
    """The AWS services NexusOps acts on. Build it with :meth:`from_settings`."""

    @classmethod
    def from_settings(cls, *, region: str | None = None) -> AwsClient:
        """The configured endpoint, in ``region`` (checked against AWS's list) or AWS_REGION."""
        return cls(
            endpoint_url=getattr(settings, "AWS_ENDPOINT_URL", "") or None,
            region=region_name(region)
            if region
            else getattr(settings, "AWS_REGION", "") or "us-east-1",
        )
