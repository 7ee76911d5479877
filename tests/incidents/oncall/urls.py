"""The project's URLs plus on-call's, until the lead includes incidents.oncall.urls."""

from django.urls import include, path

from nexusops.urls import urlpatterns as project

urlpatterns = [*project, path("", include("incidents.oncall.urls"))]
