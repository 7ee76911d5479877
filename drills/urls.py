from django.urls import path

from . import views

urlpatterns = [
    path("drills/", views.drill_list, name="drill-list"),
    path("drills/schedule/", views.drill_schedule, name="drill-schedule"),
    path("drills/<int:pk>/", views.drill_detail, name="drill-detail"),
    path("drills/<int:pk>/start/", views.drill_start, name="drill-start"),
    path("drills/<int:pk>/complete/", views.drill_complete, name="drill-complete"),
    path("drills/<int:pk>/steps/<int:step>/evidence/", views.step_evidence, name="drill-evidence"),
    path(
        "drills/<int:pk>/steps/<int:step>/complete/",
        views.step_complete,
        name="drill-step-complete",
    ),
    path("drills/<int:pk>/steps/<int:step>/assign/", views.step_assign, name="drill-step-assign"),
    path(
        "drills/<int:pk>/evidence/<int:evidence>/",
        views.evidence_download,
        name="drill-evidence-file",
    ),
]
