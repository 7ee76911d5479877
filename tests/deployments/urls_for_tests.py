"""The project's URLs plus the deployments app's, until the lead mounts them in nexusops/urls.py."""

from django.urls import include, path

from nexusops.urls import urlpatterns as project

urlpatterns = [
    path("api/", include("deployments.api.urls")),
    path("", include("deployments.urls")),
    *project,
]
