from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import LoginView
from nexusops.common import health, views
from oncall import urls as oncall_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include(oncall_urls.admin_moved)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs page is for people: an anonymous visit is sent to the login, not given a 401.
    path(
        "api/docs/",
        # The split view serves its start-up script as a file: the CSP forbids inline ones.
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/", include("nexusops.api_urls")),
    path("status/", include("statuspage.urls")),
    path("", include("incidents.deliveries.urls")),
    path("", include("chat.inbound.urls")),
    path("", include("oncall.urls")),
    path("", include("incidents.urls")),
    path("", include("remediation.urls")),
    path("", include("deployments.urls")),
    path("", include("postmortems.urls")),
    path("", include("alerts.urls")),
    path("", include("accounts.urls")),
    path("", include("drills.urls")),
    path("", include("reports.urls")),
    path("", include("monitoring.urls")),
]

handler400 = "nexusops.common.views.bad_request"
handler403 = "nexusops.common.views.permission_denied"
handler404 = "nexusops.common.views.page_not_found"
handler500 = "nexusops.common.views.server_error"

if settings.STANDINS:
    from nexusops.common import navigation
    from nexusops.standins.page import standins_page, teams_press

    navigation.register("standins", "Stand-ins", "standins", 920, section=navigation.TOOLS)
    urlpatterns.append(path("standins/", standins_page, name="standins"))
    urlpatterns.append(path("standins/teams/press/", teams_press, name="standins-teams-press"))
