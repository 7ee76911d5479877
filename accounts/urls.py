from django.urls import path

from . import profile_views, saml, token_views, views

urlpatterns = [
    path("accounts/sso/<slug:slug>/login/", views.sso_start, name="sso-start"),
    path("accounts/sso/<slug:slug>/callback/", views.sso_callback, name="sso-callback"),
    # SAML 2.0 (djangosaml2): the names its views reverse.
    path("saml2/login/", saml.saml_login, name="saml2_login"),
    path("saml2/acs/", saml.saml_acs, name="saml2_acs"),
    path("saml2/metadata/", saml.saml_metadata, name="saml2_metadata"),
    path("profile/", profile_views.profile_page, name="profile"),
    path(
        "profile/browser-time-zone/",
        profile_views.profile_browser_time_zone,
        name="profile-browser-time-zone",
    ),
    path("profile/tokens/", token_views.token_list, name="token-list"),
    path("profile/tokens/all/", token_views.token_list_all, name="token-list-all"),
    path("profile/tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token-revoke"),
]
