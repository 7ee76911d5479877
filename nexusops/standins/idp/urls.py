from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="idp/login.html"),
        name="login",
    ),
    path("admin/", admin.site.urls),
    path("_standin/people", views.people),
    path("_standin/client", views.client),
    path("_standin/fault", views.fault),
    path("_standin/reset", views.reset),
]
