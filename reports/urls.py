from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.report_dashboard, name="report-dashboard"),
    path("reports/<slug:table>.csv", views.report_csv, name="report-csv"),
]
