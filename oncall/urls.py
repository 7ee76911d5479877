from django.urls import path, re_path
from django.views.generic import RedirectView

from . import views, views_import

urlpatterns = [
    path("oncall/", views.oncall_home, name="oncall-home"),
    path("oncall/calendar/", views.oncall_calendar, name="oncall-calendar"),
    path(
        "oncall/rotations/<int:pk>/overrides/",
        views.oncall_override_create,
        name="oncall-override-create",
    ),
    path(
        "oncall/overrides/<int:pk>/decide/",
        views.oncall_override_decide,
        name="oncall-override-decide",
    ),
    path(
        "oncall/pagerduty/",
        views_import.oncall_pagerduty_import,
        name="oncall-pagerduty-import",
    ),
    path("oncall/pay/", views.oncall_pay_report, name="oncall-pay-report"),
    path("oncall/pay.csv", views.oncall_pay_csv, name="oncall-pay-csv"),
    path("oncall/pay/<int:user_id>/", views.oncall_pay_person, name="oncall-pay-person"),
    path("incidents/<str:number>/escalate/", views.incident_escalate, name="incident-escalate"),
]

# The admin pages of on-call's models were under /admin/incidents/ before on-call became an
# app (issue 17); bookmarks and links in old messages land on the same page under /admin/oncall/.
admin_moved = [
    re_path(
        r"^admin/incidents/(?P<rest>(?:rotation|rotationmember|rotationoverride|paypolicy"
        r"|escalationpolicy|escalationtier)/.*)$",
        RedirectView.as_view(url="/admin/oncall/%(rest)s", permanent=True, query_string=True),
    ),
]
