"""Cloud adapter: S3 backups and versions, bucket protection report, RDS point-in-time restore."""

from .client import (
    NOT_CONFIGURED,
    AwsClient,
    AwsNotFound,
    InvalidArgument,
    ObjectVersion,
    RestoreTimeOutOfRange,
    UploadResult,
)

__all__ = [
    "NOT_CONFIGURED",
    "AwsClient",
    "AwsNotFound",
    "InvalidArgument",
    "ObjectVersion",
    "RestoreTimeOutOfRange",
    "UploadResult",
]
