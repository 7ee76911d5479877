from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("services/", views.ServiceListView.as_view(), name="api-services"),
    path("severities/", views.SeverityListView.as_view(), name="api-severities"),
]
