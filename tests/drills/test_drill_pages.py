"""The DR drill pages over HTTP: a manager starts a drill, attaches evidence (text, link,
file), completes the steps and reads the result against RTO and RPO; Reports shows it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from drills.models import Drill
from drills.seed import seed_drills
from nexusops.common import clock, roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def planned():
    seed_drills(lambda _: None)
    return Drill.objects.get(state=Drill.State.PLANNED)


def test_a_drill_run_from_the_pages(client, planned):
    client.force_login(UserFactory(username="maya", role=roles.MANAGER))
    assert f'data-start="{planned.pk}"' in client.get("/drills/").content.decode()
    with clock.frozen(T0) as at:
        client.post(f"/drills/{planned.pk}/start/", {"failure_at": "2026-03-02T14:00"})
        drill = Drill.objects.get(pk=planned.pk)
        assert drill.state == "running" and drill.failure_at == T0
        for step in drill.steps.order_by("order"):
            base = f"/drills/{drill.pk}/steps/{step.pk}"
            client.post(f"{base}/evidence/", {"kind": "text", "text": "done"})
            if step.order == 3:
                client.post(
                    f"{base}/evidence/",
                    {
                        "kind": "file",
                        "file": SimpleUploadedFile("restore.log", b"restored 42 tables"),
                    },
                )
                client.post(f"{base}/complete/", {"recovery_point": "2026-03-02T13:57:00"})
                continue
            if step.marks == "recovered":
                at.set(T0 + dt.timedelta(minutes=41))
            client.post(f"{base}/complete/")
        response = client.post(f"/drills/{drill.pk}/complete/", follow=True)
    page = response.content.decode()
    assert "Drill complete" in page
    assert "41.0 min — within the RTO of 60 min" in page
    assert "3.0 min — within the RPO of 5 min" in page
    evidence = drill.steps.get(order=3).evidence.get(kind="file")
    download = client.get(f"/drills/{drill.pk}/evidence/{evidence.pk}/")
    assert download.content == b"restored 42 tables"
    assert download["Content-Disposition"] == 'attachment; filename="restore.log"'
    report = client.get("/reports/?start=2026-03-01&end=2026-03-31").content.decode()
    assert 'id="report-dr_drills"' in report and "2026-03-02" in report and "met (60)" in report


def test_bad_input_and_roles_on_the_pages(client, planned):
    client.force_login(UserFactory(username="ravi", role=roles.RESPONDER))
    assert client.get("/drills/").status_code == 200
    assert client.post(f"/drills/{planned.pk}/start/").status_code == 403
    client.force_login(UserFactory(username="sam", role=roles.STAKEHOLDER))
    assert client.get("/drills/").status_code == 403
    client.force_login(UserFactory(username="iris", role=roles.INCIDENT_COMMANDER))
    page = client.post(
        f"/drills/{planned.pk}/start/", {"failure_at": "yesterday-ish"}, follow=True
    ).content.decode()
    assert "failure_at: not a date and time" in page
    assert Drill.objects.get(pk=planned.pk).state == "planned"
    client.post(f"/drills/{planned.pk}/start/")
    step = Drill.objects.get(pk=planned.pk).steps.get(order=1)
    page = client.post(
        f"/drills/{planned.pk}/steps/{step.pk}/evidence/",
        {"kind": "link", "url": "ftp://x"},
        follow=True,
    ).content.decode()
    assert "Give an http(s) link." in page
    page = client.post(
        f"/drills/{planned.pk}/steps/{step.pk}/complete/", follow=True
    ).content.decode()
    assert "Attach evidence to the step before completing it." in page
    assert not step.evidence.exists()
