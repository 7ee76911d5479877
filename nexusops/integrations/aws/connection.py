"""The boto3 session, its timeouts and retries, and the conversion of botocore's errors.

The one module of the AWS adapter that imports boto3/botocore, and only when a client is built
or an error converted: importing the adapter (to register actions, to validate a name) must
not load them, since every process imports it at start-up. Settings
(``getattr(settings, NAME, "")``): ``AWS_ENDPOINT_URL`` (moto's server in tests and the
embedded mode; unset for AWS itself), ``AWS_REGION`` (default ``us-east-1``). Credentials come
from boto3's usual chain (``AWS_ACCESS_KEY_ID``..., profile, instance role).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Iterator
from typing import Any

from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

from .errors import VENDOR, AwsNotFound, InvalidArgument

_NOT_FOUND = {
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchVersion",
    "NoSuchUpload",
    "404",
    "NotFound",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "InvalidVolume.NotFound",
    "ReplicationGroupNotFoundFault",
    "ReplicationGroupNotFound",
    "NoSuchEntity",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "SlowDown",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
}


def vendor_errors() -> tuple[type[Exception], ...]:
    """botocore's own failures, for a caller that ignores them (a best-effort cleanup)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region botocore's bundled endpoint data names, in every partition (no call)."""
    import boto3

    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def region_name(value: str) -> str:
    """A region AWS has (``eu-west-1``), or InvalidArgument before any client is built."""
    if not isinstance(value, str) or not _REGION.fullmatch(value) or value not in known_regions():
        raise InvalidArgument(f"{value!r} is not an AWS region (e.g. us-east-1, eu-west-1)")
    return value


def iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value or "")


class Connection:
    """The AWS clients (S3, RDS, EC2, ElastiCache, CloudWatch) and the error conversion every
    resource module uses."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        import boto3
        from botocore.config import Config

        config = Config(
            region_name=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url or None
        self.region = region
        self._session, self._config = session, config
        self._s3 = session.client("s3", endpoint_url=self.endpoint_url, config=config)
        self._rds = session.client("rds", endpoint_url=self.endpoint_url, config=config)

    def _client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint_url, config=self._config)

    # Built on first use: most actions need one or two of these, not all of them.
    @functools.cached_property
    def _ec2(self) -> Any:
        return self._client("ec2")

    @functools.cached_property
    def _elasticache(self) -> Any:
        return self._client("elasticache")

    @functools.cached_property
    def _cloudwatch(self) -> Any:
        return self._client("cloudwatch")

    @functools.cached_property
    def _iam(self) -> Any:
        return self._client("iam")

    @contextlib.contextmanager
    def _vendor_errors(self, what: str) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            text = f"{what}: {code} {error.get('Message') or ''}".strip()
            if code in _NOT_FOUND:
                raise AwsNotFound(text, code=code) from exc
            if code in _THROTTLED or status == 429:
                raise RateLimited(text, vendor=VENDOR, code=code, status=status) from exc
            if status >= 500:
                raise VendorUnavailable(text, vendor=VENDOR, code=code, status=status) from exc
            raise VendorRejected(text, vendor=VENDOR, code=code, status=status) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise NotConfigured(f"{what}: no AWS credentials ({exc})", vendor=VENDOR) from exc
        except ParamValidationError as exc:
            raise InvalidArgument(f"{what}: {exc}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, closed connections
            raise VendorUnavailable(f"{what}: {exc}", vendor=VENDOR) from exc
