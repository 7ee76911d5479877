from django.urls import path

from . import views, write_views

urlpatterns = [
    path("services/", views.service_list, name="service-list"),
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/declare/", views.incident_declare, name="incident-declare"),
    path("incidents/<str:number>/", views.incident_detail, name="incident-detail"),
    path("incidents/<str:number>/live/", views.incident_live, name="incident-live"),
    path("incidents/<str:number>/timeline/", views.incident_timeline, name="incident-timeline"),
    path(
        "incidents/<str:number>/transition/",
        write_views.incident_transition,
        name="incident-transition",
    ),
    path("incidents/<str:number>/note/", write_views.incident_note, name="incident-note"),
    path("incidents/<str:number>/assign/", write_views.incident_assign, name="incident-assign"),
    path("incidents/<str:number>/edit/", write_views.incident_edit, name="incident-edit"),
    path(
        "incidents/<str:number>/timers/<int:pk>/retry/",
        write_views.incident_timer_retry,
        name="incident-timer-retry",
    ),
    path(
        "incidents/<str:number>/checklist/<slug:key>/",
        write_views.incident_checklist,
        name="incident-checklist",
    ),
]
