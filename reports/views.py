"""The managers' reports page and its CSV exports (``postmortems.view_reports``)."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from nexusops.common.errors import ApplicationError

from . import charts
from . import selectors as reports


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "postmortems/forbidden.html", {"message": message}, status=403)


@require_GET
def report_dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("postmortems.view_reports"):
        return _forbidden(request, "Only managers read the reports.")
    get = request.GET
    errors: dict = {}
    try:
        window = reports.report_window(start=get.get("start"), end=get.get("end"))
    except ApplicationError as exc:
        errors = exc.fields
        window = reports.report_window(start=None, end=None)
    tables = reports.report_all(window=window)
    return render(
        request,
        "reports/reports.html",
        {
            "window": window,
            "errors": errors,
            "start": get.get("start", window.start.isoformat()),
            "end": get.get("end", window.end.isoformat()),
            "tables": [(t, charts.table_chart(t)) for t in tables],
        },
        status=400 if errors else 200,
    )


@require_GET
def report_csv(request: HttpRequest, table: str) -> HttpResponse:
    if not request.user.has_perm("postmortems.view_reports"):
        return _forbidden(request, "Only managers read the reports.")
    try:
        window = reports.report_window(start=request.GET.get("start"), end=request.GET.get("end"))
        data = reports.report_table(window=window, key=table)
    except ApplicationError as exc:
        details = "; ".join(m for msgs in exc.fields.values() for m in msgs)
        return HttpResponse(
            f"{exc.message} {details}".strip(), status=exc.status, content_type="text/plain"
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{table}-{window.start}-{window.end}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(data.columns)
    writer.writerows(["" if v is None else v for v in row] for row in data.rows)
    return response
