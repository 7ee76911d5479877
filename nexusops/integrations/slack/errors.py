"""How Slack's failures become :mod:`nexusops.integrations.errors`, for ``client.py``.

Only reads the ``SlackApiError`` it is given: ``slack_sdk`` itself is imported by the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nexusops.integrations.errors import (
    IntegrationError,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

if TYPE_CHECKING:
    from slack_sdk.errors import SlackApiError

VENDOR = "slack"
# Slack answers these with HTTP 200 and ok: false, yet trying again later may succeed.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# conversations.invite errors about a person rather than the channel or the call.
PER_USER_ERRORS = frozenset(
    {
        "user_not_found",
        "already_in_channel",
        "cant_invite_self",
        "cant_invite",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "ura_max_channels",
        "no_external_invite_permission",
    }
)


def convert_api_error(api_method: str, exc: SlackApiError) -> IntegrationError:
    response = exc.response
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or "")
    if status == 429 or code == "ratelimited":
        retry_after = retry_after_seconds(response.headers)
        return RateLimited(
            f"{api_method} rate limited; retry after {retry_after}s",
            retry_after=retry_after,
            vendor=VENDOR,
            code=code or "ratelimited",
            status=status,
        )
    if status >= 500 or code in RETRYABLE_ERRORS:
        code = code if status < 500 else f"http_{status}"  # a 5xx body is rarely Slack JSON
        return VendorUnavailable(
            f"{api_method} failed: {code}",
            vendor=VENDOR,
            code=code,
            status=status,
        )
    return VendorRejected(
        f"{api_method} refused: {code or f'HTTP {status}'}", vendor=VENDOR, code=code, status=status
    )


def refused_users(exc: VendorRejected, batch: Sequence[str]) -> dict[str, str]:
    """Which users of ``batch`` Slack refused, and why, from an ``ok: false`` invite."""
    cause = exc.__cause__
    data = getattr(getattr(cause, "response", None), "data", None)
    per_user = data.get("errors") if isinstance(data, dict) else None
    refused = {
        str(e["user"]): str(e.get("error") or exc.code)
        for e in per_user or []
        if isinstance(e, dict) and e.get("user") in batch
    }
    if not refused and len(batch) == 1 and exc.code in PER_USER_ERRORS:
        refused = {batch[0]: exc.code}  # one person: the error is about them
    return refused


def retry_after_seconds(headers: dict[str, Any]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            if isinstance(value, list):
                value = value[0] if value else None
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None
