from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("services/", views.ServiceListView.as_view(), name="api-services"),
    path("severities/", views.SeverityListView.as_view(), name="api-severities"),
    path("incidents/", views.IncidentListView.as_view(), name="api-incident-list"),
    path("incidents/<str:number>/", views.IncidentDetailView.as_view(), name="api-incident-detail"),
    path(
        "incidents/<str:number>/transitions/",
        views.IncidentTransitionView.as_view(),
        name="api-incident-transitions",
    ),
    path(
        "incidents/<str:number>/assign/",
        views.IncidentAssignView.as_view(),
        name="api-incident-assign",
    ),
    path(
        "incidents/<str:number>/notes/", views.IncidentNoteView.as_view(), name="api-incident-notes"
    ),
    path(
        "incidents/<str:number>/timeline/",
        views.IncidentTimelineView.as_view(),
        name="api-incident-timeline",
    ),
    path(
        "incidents/<str:number>/checklist/",
        views.IncidentChecklistView.as_view(),
        name="api-incident-checklist",
    ),
    path(
        "incidents/<str:number>/checklist/<slug:key>/",
        views.IncidentChecklistItemView.as_view(),
        name="api-incident-checklist-item",
    ),
]
