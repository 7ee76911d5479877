"""The errors every vendor adapter raises, whatever the vendor library underneath.

Callers (services, Celery tasks) catch these and never a vendor library's own exceptions:
each ``nexusops/integrations/<vendor>/client.py`` converts them at its edge.

* :class:`NotConfigured` - the adapter's settings are unset; nothing was sent.
* :class:`RateLimited` - the vendor said "slow down" (429/420); ``retry_after`` seconds if it said
  how long. Retryable (:class:`~nexusops.common.errors.RetryableError`): the base task honours
  ``retry_after``.
* :class:`VendorUnavailable` - 5xx, timeouts, connection errors. Retryable.
* :class:`VendorRejected` - 4xx / an ``ok: false`` answer: retrying the same call cannot help.
* :class:`InvalidSignature`, :class:`MalformedPayload` - an inbound webhook failed verification
  or parsing; answer it with ``status`` and change nothing.
"""

from __future__ import annotations

from nexusops.common.errors import RetryableError


class IntegrationError(Exception):
    """Base of every adapter error.

    ``vendor`` names the adapter ("slack", "pagerduty", "statuspage"), ``code`` is the vendor's
    machine-readable error when it sent one (Slack's ``"channel_not_found"``), ``status`` the
    HTTP status when there was a response.
    """

    retry_after: float | None = None

    def __init__(
        self, message: str, *, vendor: str = "", code: str = "", status: int | None = None
    ) -> None:
        Exception.__init__(self, message)
        self.message = message
        self.vendor = vendor
        self.code = code
        self.status = status

    def __str__(self) -> str:
        prefix = f"{self.vendor}: " if self.vendor else ""
        return f"{prefix}{self.message}"


class NotConfigured(IntegrationError):
    """The adapter's URL or secret is unset; the integration is off."""


class VendorRejected(IntegrationError):
    """The vendor refused the request (4xx, or ``ok: false``). Not retryable."""


class VendorUnavailable(IntegrationError, RetryableError):
    """A 5xx, a timeout or a refused connection. Retryable."""


class NotYetVisible(VendorUnavailable):
    """The vendor does not know the object yet, but will soon.

    PagerDuty's Events API creates incidents asynchronously, so a note added right after a
    trigger may find no incident for the dedup key; trying again later is the fix.
    """


class RateLimited(IntegrationError, RetryableError):
    """The vendor rate-limited us. ``retry_after`` is in seconds, or None when not given."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        vendor: str = "",
        code: str = "",
        status: int | None = 429,
    ) -> None:
        super().__init__(message, vendor=vendor, code=code, status=status)
        self.retry_after = retry_after


class InvalidSignature(IntegrationError):
    """An inbound request's signature is missing, forged, for another body, or stale."""

    def __init__(self, message: str, *, vendor: str = "", code: str = "bad_signature") -> None:
        super().__init__(message, vendor=vendor, code=code, status=401)


class MalformedPayload(IntegrationError):
    """An inbound request's body is not what the vendor's protocol says it is."""

    def __init__(self, message: str, *, vendor: str = "", code: str = "malformed") -> None:
        super().__init__(message, vendor=vendor, code=code, status=400)
