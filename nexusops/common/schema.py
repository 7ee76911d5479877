"""The OpenAPI schema documents the errors every endpoint shares (issue 14 item 13).

drf-spectacular documents what a view declares. The answers that come from the shared
machinery rather than from one view are added here, once, with the one error body
(``nexusops.common.api``): 401/403 from authentication, 404 for an out-of-range ``page`` or an
unknown id in the path, 400 for bad input, 415 for a body that is not JSON, 429 from the
throttle and 503 while the database is down. A view's own declaration wins.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as _AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable, e.g. stale_version.")
    message = serializers.CharField(help_text="For people: what went wrong and what to do.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages for invalid input; empty otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


SHARED = {
    "401": "Not signed in, or the token is wrong.",
    "403": "Signed in, but this role may not do this.",
    "429": "Too many requests; wait for Retry-After seconds.",
    "503": "The database is unavailable; retry after Retry-After seconds.",
}


class AutoSchema(_AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        wanted = dict(SHARED)
        method = self.method.upper()
        has_path_ids = "{" in self.path
        if has_path_ids or self._is_list_view():
            wanted["404"] = "Not found: an unknown id, or a page past the last one."
        if method in ("POST", "PUT", "PATCH") or self._get_filter_parameters() or has_path_ids:
            wanted["400"] = "The input is not valid; error.fields names each bad field."
        if method in ("POST", "PUT", "PATCH"):
            wanted["415"] = "The body is not JSON (send Content-Type: application/json)."
        for code, description in wanted.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code)
                body["description"] = description
                responses[code] = body
        return responses
