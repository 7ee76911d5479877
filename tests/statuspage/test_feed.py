"""The Atom feed of public updates parses and lists them, newest first."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from nexusops.common import clock
from statuspage.services import public_update_publish
from tests.factories import incident

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
T0 = dt.datetime(2025, 5, 1, 8, 0, tzinfo=dt.UTC)


def test_feed_is_atom_and_lists_updates_newest_first(client, components, ic):
    with clock.frozen(T0) as clk:
        inc = incident("Checkout errors")
        public_update_publish(
            incident=inc,
            actor=ic,
            stage="investigating",
            message="Looking <b>",
            title="Checkout errors",  # the commander copies the internal title in
        )
        clk.advance(minutes=20)
        last = public_update_publish(incident=inc, actor=ic, stage="resolved", message="All good.")

    response = client.get(reverse("status-feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Resolved: Checkout errors",
        "Investigating: Checkout errors",
    ]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.endswith(reverse("status-incident", args=[inc.number]) + f"#update-{last.pk}")
    # The update is plain text: markup in it is escaped, not interpreted by feed readers.
    assert entries[1].findtext(f"{ATOM}summary") == "Looking &lt;b&gt;"
    assert entries[0].findtext(f"{ATOM}updated").startswith("2025-05-01T08:20:00")


def test_feed_is_public_and_empty_without_updates(client):
    response = client.get(reverse("status-feed"))
    assert response.status_code == 200
    assert ET.fromstring(response.content).findall(f"{ATOM}entry") == []
