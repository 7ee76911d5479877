from django.urls import path

from . import views

urlpatterns = [
    path("", views.status_page, name="status-page"),
    path("incidents/<str:number>/", views.status_incident, name="status-incident"),
    path("feed.atom", views.status_feed, name="status-feed"),
    path("subscribe/", views.status_subscribe, name="status-subscribe"),
    path(
        "subscribe/confirm/<str:token>/",
        views.status_subscribe_confirm,
        name="status-subscribe-confirm",
    ),
    path("unsubscribe/<str:token>/", views.status_unsubscribe, name="status-unsubscribe"),
    path("publish/<str:number>/", views.status_publish, name="status-publish"),
]
