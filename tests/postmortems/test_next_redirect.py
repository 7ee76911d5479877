"""Issue 14 item 7: a post-mortem form's ``next`` only leads back into the console."""

import pytest
from django.urls import reverse

from tests.postmortems.helpers import postmortem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "wanted",
    ["https://evil.example/phish", "//evil.example/phish", "http://testserver.evil.example/"],
)
def test_next_to_another_host_is_ignored(ic, client, wanted):
    pm = postmortem(actor=ic)
    client.force_login(ic)
    response = client.post(
        reverse("actionitem-create", args=[pm.incident.number]),
        {"description": "Add a canary", "priority": "medium", "next": wanted},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("postmortem-detail", args=[pm.incident.number])


def test_next_within_the_console_is_followed(ic, client):
    pm = postmortem(actor=ic)
    client.force_login(ic)
    response = client.post(
        reverse("actionitem-create", args=[pm.incident.number]),
        {"description": "Add a canary", "priority": "medium", "next": "/action-items/"},
    )
    assert response["Location"] == "/action-items/"
