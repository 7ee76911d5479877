"""Markdown and PDF exports carry the document (the PDF's text parsed with pypdf)."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from nexusops.common import clock
from postmortems.services import action_item_create, postmortem_update
from tests.factories import UserFactory
from tests.postmortems.helpers import postmortem

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(ic):
    pm = postmortem(actor=ic, title="Checkout errors — EU")
    postmortem_update(
        postmortem=pm,
        actor=ic,
        expected_version=pm.version,
        data={
            "summary": "Checkout failed for EU users.",
            "root_cause": "A config push disabled the payment route.",
            "lessons": "Canary every config change.",
            "impact_users": "1200",
        },
    )
    action_item_create(
        postmortem=pm,
        actor=ic,
        description="Add a config canary stage",
        owner=UserFactory(username="olga", first_name="Olga"),
        due_date=clock.now().date() + dt.timedelta(days=14),
        tracker_url="https://tracker.example/NEX-42",
    )
    return pm


def test_markdown(written, client, ic):
    client.force_login(ic)
    response = client.get(reverse("postmortem-export", args=[written.incident.number, "md"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith(f"# Post-mortem: {written.incident.number} Checkout errors — EU")
    assert "## Root cause\n\nA config push disabled the payment route." in text
    assert "- **Users affected:** 1,200" in text
    assert "[Add a config canary stage](https://tracker.example/NEX-42) | Olga |" in text
    assert "Resolved: the issue is verified fixed." in text


def test_pdf(written, client, ic):
    client.force_login(ic)
    response = client.get(reverse("postmortem-export", args=[written.incident.number, "pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert f"Post-mortem: {written.incident.number} Checkout errors — EU" in text
    assert "A config push disabled the payment route." in text
    assert "Canary every config change." in text
    assert "Add a config canary stage (owner Olga" in text
    assert "Resolved: the issue is verified fixed." in text
