from django.urls import path

from . import views

urlpatterns = [
    path("oncall/", views.oncall_home, name="oncall-home"),
    path("oncall/calendar/", views.oncall_calendar, name="oncall-calendar"),
    path(
        "oncall/rotations/<int:pk>/overrides/",
        views.oncall_override_create,
        name="oncall-override-create",
    ),
    path("oncall/pay/", views.oncall_pay_report, name="oncall-pay-report"),
    path("oncall/pay.csv", views.oncall_pay_csv, name="oncall-pay-csv"),
    path("oncall/pay/<int:user_id>/", views.oncall_pay_person, name="oncall-pay-person"),
    path("incidents/<str:number>/escalate/", views.incident_escalate, name="incident-escalate"),
]
