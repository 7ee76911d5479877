from django.urls import path

from . import views

# The panel's paths and names predate its move out of the status page; they stay.
urlpatterns = [
    path("status/deliveries/<str:number>/", views.status_deliveries, name="status-deliveries"),
    path(
        "status/deliveries/<int:pk>/retry/",
        views.status_delivery_retry,
        name="status-delivery-retry",
    ),
]
