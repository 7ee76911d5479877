from django.urls import path

from . import token_views, views

urlpatterns = [
    path("accounts/sso/<slug:slug>/login/", views.sso_start, name="sso-start"),
    path("accounts/sso/<slug:slug>/callback/", views.sso_callback, name="sso-callback"),
    path("profile/tokens/", token_views.token_list, name="token-list"),
    path("profile/tokens/all/", token_views.token_list_all, name="token-list-all"),
    path("profile/tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token-revoke"),
]
