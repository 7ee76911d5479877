from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Sign-in and API tokens"

    def ready(self) -> None:
        from nexusops.common import roles

        from . import checks  # noqa: F401 - registers the SSO settings check

        # Managers see everyone's personal API tokens and revoke them (issue 18).
        roles.grant(roles.MANAGER, "accounts.manage_all_tokens", "accounts.view_ssoidentity")
