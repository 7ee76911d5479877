"""Cloud adapter: S3 backups and versions, bucket protection report, RDS point-in-time restore."""

from .client import AwsClient
from .errors import AwsNotFound, InvalidArgument, RestoreTimeOutOfRange
from .s3 import NOT_CONFIGURED, ObjectVersion, UploadResult

__all__ = [
    "NOT_CONFIGURED",
    "AwsClient",
    "AwsNotFound",
    "InvalidArgument",
    "ObjectVersion",
    "RestoreTimeOutOfRange",
    "UploadResult",
]
