from django.urls import path

from . import api, ingest_views, views

urlpatterns = [
    path(
        "api/alerts/alertmanager/",
        ingest_views.ingest_alertmanager,
        name="alerts-ingest-alertmanager",
    ),
    path("api/alerts/datadog/", ingest_views.ingest_datadog, name="alerts-ingest-datadog"),
    path("api/alerts/generic/", ingest_views.ingest_generic, name="alerts-ingest-generic"),
    path("api/alerts/groups/", api.AlertGroupList.as_view(), name="api-alert-groups"),
    path("alerts/", views.alert_group_list, name="alert-group-list"),
    path("alerts/all/", views.alert_list, name="alert-list"),
    path("alerts/groups/<int:pk>/", views.alert_group_detail, name="alert-group-detail"),
    path("alerts/groups/<int:pk>/ack/", views.alert_group_ack, name="alert-group-ack"),
    path("alerts/groups/<int:pk>/silence/", views.alert_group_silence, name="alert-group-silence"),
    path(
        "alerts/failures/<int:pk>/retry/",
        views.alert_processing_retry,
        name="alert-processing-retry",
    ),
    path(
        "alerts/incidents/<str:number>/groups/",
        views.alert_incident_groups,
        name="alert-incident-groups",
    ),
]
