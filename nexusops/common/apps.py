from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "nexusops.common"
    label = "common"
    verbose_name = "NexusOps common"

    def ready(self) -> None:
        from . import roles

        # After every migrate the role groups exist and hold exactly their permissions.
        # Managers see sign-in lockouts and unlock an account (delete its attempt row).
        roles.grant(
            roles.MANAGER,
            "axes.view_accessattempt",
            "axes.delete_accessattempt",
            "axes.view_accessfailurelog",
            "axes.view_accesslog",
        )
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="nexusops-roles-sync")
