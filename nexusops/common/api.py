"""What every API endpoint shares: one error body, one pagination."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from . import keyset
from .errors import ApplicationError

logger = logging.getLogger(__name__)

# How long a client should wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 5


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class CursorPagination(BasePagination):
    """Cursor paging for a list that grows without bound (incidents), as incident.io's API
    does: ``next``/``previous`` are URLs to follow, each page costs the same at any depth
    (``keyset``), and ``count`` stops at ``count_limit`` with ``count_exact`` false beyond it.

    The queryset's ``order_by`` is the cursor's key (see ``keyset``). A cursor that is not
    one the list gave out answers 400 on ``cursor``; ``page`` (the page numbers this list
    had before) answers 400 saying what replaced it.
    """

    page_size = api_settings.PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"
    count_limit = keyset.COUNT_LIMIT

    def paginate_queryset(self, queryset, request, view=None):  # noqa: ANN001
        if "page" in request.query_params:
            raise exceptions.ValidationError(
                {"page": ["This list pages by cursor: follow next and previous."]}
            )
        self.request = request
        try:
            self.found = keyset.page(
                queryset,
                cursor=request.query_params.get(self.cursor_query_param) or None,
                size=self.get_page_size(request),
            )
        except keyset.InvalidCursor as exc:
            raise exceptions.ValidationError({self.cursor_query_param: [str(exc)]}) from None
        self.count, self.count_exact = keyset.count_page(queryset, self.found, self.count_limit)
        return self.found.rows

    def get_page_size(self, request) -> int:  # noqa: ANN001
        """``page_size`` if it is a positive number (at most ``max_page_size``), else the
        default, as the page-number lists do."""
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data) -> Response:  # noqa: ANN001
        return Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self._link(self.found.next),
                "previous": self._link(self.found.previous),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "count_exact", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 1000,
                    "description": f"Matches, counted up to {self.count_limit}.",
                },
                "count_exact": {
                    "type": "boolean",
                    "description": "False when there are more than count matches.",
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (older), or null on the last.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page (newer), or null on the first.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:  # noqa: ANN001
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: take it from next or previous.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}, "
                f"at most {self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]


def _error(
    code: str, message: str, fields: dict | None, http_status: int, headers=None
) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return Response(body, status=http_status, headers=headers)


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list):
                out[key] = [str(v) for v in value]
            else:
                out[key] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    """Every error answers ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, ApplicationError):
        return _error(exc.code, exc.message, exc.fields, exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return _error("invalid", "The request is not valid.", fields, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "The request is not valid."
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
        return _error("invalid", message, fields, response.status_code, response.headers)
    detail = getattr(exc, "detail", "")
    code = "error"
    if hasattr(exc, "get_codes"):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    return _error(code, str(detail), None, response.status_code, response.headers)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_json(code: str, message: str, http_status: int, headers=None) -> JsonResponse:  # noqa: ANN001
    """The same body as :func:`exception_handler`, for errors raised outside DRF's views."""
    body = {"error": {"code": code, "message": message, "fields": {}}}
    return JsonResponse(body, status=http_status, headers=headers)


def database_unavailable(exc: BaseException | None) -> bool:
    """The database could not be reached, or did not answer in time (a statement limit): the
    request changed nothing and a retry may work, so it answers 503 with Retry-After, whether
    an API client or a page asked (``nexusops.common.views.server_error``)."""
    return isinstance(exc, OperationalError | InterfaceError)


def unexpected_error_json(exc: BaseException | None) -> JsonResponse:
    """What an API client gets for an exception no view handled: 503 with Retry-After when
    the database cannot be reached (a retry will work), else a JSON 500."""
    if database_unavailable(exc):
        logger.error("API: database unavailable: %s: %s", type(exc).__name__, exc)
        return error_json(
            "unavailable",
            "The database is unavailable; nothing was changed. Retry shortly.",
            status.HTTP_503_SERVICE_UNAVAILABLE,
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return error_json(
        "server_error", "Something went wrong on our side.", status.HTTP_500_INTERNAL_SERVER_ERROR
    )
