"""resolve_services: the one lookup of Service rows by slug, for incidents and deployments."""

from __future__ import annotations

import pytest

from incidents.services.common import resolve_services
from nexusops.common.errors import ApplicationError
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_rows_come_back_in_the_order_given_without_repeats_or_blanks():
    api, db = ServiceFactory(slug="api-gateway"), ServiceFactory(slug="postgres")

    rows = resolve_services([" postgres ", "", "api-gateway", db, "  "])

    assert rows == [db, api]


def test_an_unknown_name_refuses_the_whole_list_and_names_it():
    ServiceFactory(slug="api-gateway")

    with pytest.raises(ApplicationError) as caught:
        resolve_services(["api-gateway", "nope"])

    assert caught.value.message == "Unknown service(s): nope."
    assert caught.value.fields == {"services": ["Unknown service 'nope'."]}


def test_none_named_is_fine_for_an_incident_and_refused_when_required():
    assert resolve_services(["", " "]) == []

    with pytest.raises(ApplicationError) as caught:
        resolve_services(["", " "], required=True)

    assert caught.value.fields == {"services": ["Name at least one service."]}
