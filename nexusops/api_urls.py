"""The API's URLconf: each app contributes its routes here."""

from django.urls import include, path

urlpatterns = [
    path("", include("incidents.api.urls")),
    path("", include("deployments.api.urls")),
]
