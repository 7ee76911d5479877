"""Role/URL matrix rows for the reports (tests/test_url_matrix.py): ``postmortems.view_reports``
(Manager, and the admin)."""

from __future__ import annotations

from tests.support.urlmatrix import ADMIN, MANAGER, page

REPORTERS = (MANAGER, ADMIN)

ROWS = {
    "report-dashboard": page(ok=REPORTERS),
    "report-csv": page(ok=REPORTERS, kwargs=lambda: {"table": "sla"}),
}
