"""Optimistic concurrency over HTTP, and the permission gate of the incident API.

A write may carry the version it last read, either as the ``If-Match: "<version>"`` header (the
ETag of GET) or as a ``version`` field. The service compares it with the locked row; a stale
header answers 412 Precondition Failed, a stale field 409 Conflict, both ``code=stale_version``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from nexusops.common.errors import ApplicationError, Conflict

from ..models import Incident

_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


class IncidentPermission(permissions.BasePermission):
    """Reads need ``incidents.view_incident``; a write needs one of the view's ``write_perms``.

    The service checks the exact rule again (acknowledge vs drive, say); this gate makes a
    role that can write nothing here get 403 before its input is even read.
    """

    message = "Your role cannot change incidents."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return request.user.has_perm("incidents.view_incident")
        return any(request.user.has_perm(p) for p in getattr(view, "write_perms", ()))


def etag(incident: Incident) -> dict[str, str]:
    return {"ETag": f'"{incident.version}"'}


def expected_version(
    request: Request, body_version: int | None, *, required: bool
) -> tuple[int | None, bool]:
    """The version the client last read, and whether it came from If-Match."""
    header = request.headers.get("If-Match")
    if header is not None:
        match = _ETAG_RE.match(header)
        if match is None:
            raise ApplicationError(
                f'If-Match must be the incident\'s ETag, e.g. "3", not {header!r}.',
                fields={"If-Match": ["Not an incident ETag."]},
            )
        header_version = int(match.group(1))
        if body_version is not None and body_version != header_version:
            raise ApplicationError(
                f"If-Match says version {header_version} but the body says {body_version}.",
                fields={"version": ["Disagrees with If-Match."]},
            )
        return header_version, True
    if body_version is not None:
        return body_version, False
    if required:
        raise ApplicationError(
            'Send the version you last read: an If-Match: "<version>" header (the ETag of '
            "GET) or a version field, so you never overwrite a change you have not seen.",
            code="precondition_required",
            status=428,
        )
    return None, False


@contextmanager
def stale_is_412(from_header: bool) -> Iterator[None]:
    """A stale If-Match is 412 (RFC 9110); a stale body version stays the service's 409."""
    try:
        yield
    except Conflict as exc:
        if from_header and exc.code == "stale_version":
            raise ApplicationError(
                exc.message, code=exc.code, status=412, fields=exc.fields, extra=exc.extra
            ) from exc
        raise
