"""The project's URLs plus the Stand-ins page, as ``make run`` (NEXUSOPS_STANDINS=1) has them."""

from django.urls import path

from nexusops.standins.page import standins_page, teams_press
from nexusops.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("standins/", standins_page, name="standins"),
    path("standins/teams/press/", teams_press, name="standins-teams-press"),
]
