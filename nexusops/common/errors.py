from collections.abc import Collection


class ApplicationError(Exception):
    """A rule of the domain said no. Carries a user-facing message and optional details.

    ``code`` is stable and machine-readable; ``status`` is what the API answers with
    (400 invalid input, 403 forbidden, 404 not found, 409 conflict with current state).
    """

    code = "invalid"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        self.extra = extra or {}


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status = 403


class NotFoundError(ApplicationError):
    code = "not_found"
    status = 404


class RetryableError(Exception):
    """Raise from a service when trying again later may succeed (a vendor 5xx, a timeout).

    ``retry_after`` (seconds) is honoured when the vendor sent one (Slack's 429): the base
    task (:class:`nexusops.common.tasks.NexusTask`) retries these with backoff.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def has_sqlstate(exc: BaseException, codes: Collection[str]) -> bool:
    """Whether the database error ``exc``, or one it was raised from or during, carries one of
    PostgreSQL's SQLSTATE ``codes`` (psycopg's ``sqlstate``; ``pgcode`` on older drivers)."""
    seen: BaseException | None = exc
    while seen is not None:
        if (getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)) in codes:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
