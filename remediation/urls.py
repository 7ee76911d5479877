from django.urls import path

from . import views

urlpatterns = [
    path("runbooks/", views.runbook_list, name="runbook-list"),
    path("runbooks/<slug:slug>/", views.runbook_detail, name="runbook-detail"),
    path("remediation/runs/", views.run_request, name="remediation-run-request"),
    path("remediation/runs/<int:pk>/", views.run_detail, name="remediation-run-detail"),
    path("remediation/runs/<int:pk>/approve/", views.run_approve, name="remediation-run-approve"),
    path("remediation/runs/<int:pk>/refuse/", views.run_refuse, name="remediation-run-refuse"),
    path("remediation/runs/<int:pk>/output/", views.run_output, name="remediation-run-output"),
    path(
        "incidents/<str:number>/remediation/",
        views.incident_panel,
        name="remediation-incident-panel",
    ),
    path(
        "incidents/<str:number>/remediation/attach/",
        views.scenario_attach,
        name="remediation-scenario-attach",
    ),
    path(
        "incidents/<str:number>/remediation/steps/<int:step>/",
        views.step_set,
        name="remediation-step-set",
    ),
]
