from django.urls import path

from . import views

urlpatterns = [
    path("deployments/", views.deployment_list, name="deployment-list"),
    path("deployments/new/", views.deployment_new, name="deployment-new"),
    path("deployments/calendar/", views.deployment_calendar, name="deployment-calendar"),
    path("deployments/dora/", views.deployment_dora, name="deployment-dora"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment-detail"),
    path("deployments/<int:pk>/start/", views.deployment_start, name="deployment-start"),
    path("deployments/<int:pk>/finish/", views.deployment_finish, name="deployment-finish"),
    path("deployments/<int:pk>/checks/<slug:key>/", views.deployment_check,
         name="deployment-check"),
    path("deployments/<int:pk>/rollback/", views.deployment_rollback, name="deployment-rollback"),
    path("deployments/<int:pk>/backup/", views.deployment_backup, name="deployment-backup"),
    path("deployments/<int:pk>/link/", views.deployment_link, name="deployment-link"),
    path("incidents/<str:number>/changes/", views.incident_changes,
         name="deployment-incident-changes"),
    path("maintenance/", views.maintenance_list, name="maintenance-list"),
    path("maintenance/<int:pk>/work/", views.maintenance_work, name="maintenance-work"),
    path("maintenance/<int:pk>/cancel/", views.maintenance_cancel, name="maintenance-cancel"),
    path("maintenance/<int:pk>/approve/", views.maintenance_approve, name="maintenance-approve"),
]  # fmt: skip
