from django.urls import path, register_converter

from . import actionitem_views, views


class ExportFormat:
    regex = "md|pdf"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportFormat, "fmt")

urlpatterns = [
    path("postmortems/", views.postmortem_list, name="postmortem-list"),
    path("postmortems/<str:number>/", views.postmortem_detail, name="postmortem-detail"),
    path("postmortems/<str:number>/panel/", views.postmortem_panel, name="postmortem-panel"),
    path("postmortems/<str:number>/start/", views.postmortem_start, name="postmortem-start"),
    path("postmortems/<str:number>/edit/", views.postmortem_edit, name="postmortem-edit"),
    path(
        "postmortems/<str:number>/autosave/",
        views.postmortem_autosave,
        name="postmortem-autosave",
    ),
    path(
        "postmortems/<str:number>/schedule/",
        views.postmortem_schedule,
        name="postmortem-schedule",
    ),
    path(
        "postmortems/<str:number>/timeline/<int:pk>/",
        views.postmortem_entry,
        name="postmortem-entry",
    ),
    path("postmortems/<str:number>/review/", views.postmortem_review, name="postmortem-review"),
    path(
        "postmortems/<str:number>/export.<fmt:fmt>",
        views.postmortem_export,
        name="postmortem-export",
    ),
    path(
        "postmortems/<str:number>/action-items/",
        actionitem_views.actionitem_create,
        name="actionitem-create",
    ),
    path("action-items/", actionitem_views.actionitem_list, name="actionitem-list"),
    path("action-items/<int:pk>/", actionitem_views.actionitem_update, name="actionitem-update"),
]
