"""The HTML error pages a person may meet: Django calls ``server_error`` inside its ``except``
block (the exception is current), outside any request context."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError

from nexusops.common.views import server_error

pytestmark = pytest.mark.smoke


def _answer(rf, path: str, exc: Exception):
    try:
        raise exc
    except type(exc):
        return server_error(rf.get(path))


def test_a_database_that_does_not_answer_is_a_503_page_with_retry_after(rf):
    response = _answer(rf, "/incidents/", OperationalError("canceling statement due to timeout"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "did not answer in time" in page and "Nothing was changed" in page
    assert "try again in 5 seconds" in page


def test_any_other_error_is_the_consoles_500_page(rf):
    response = _answer(rf, "/incidents/", RuntimeError("a bug"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "a bug" not in response.content.decode()  # nothing of the error leaks


def test_the_api_keeps_its_json_shape(rf):
    response = _answer(rf, "/api/incidents/", OperationalError("gone"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert json.loads(response.content)["error"]["code"] == "unavailable"
