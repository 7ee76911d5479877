from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "nexusops.common"
    label = "common"
    verbose_name = "NexusOps common"

    def ready(self) -> None:
        from . import roles

        # After every migrate the role groups exist and hold exactly their permissions.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="nexusops-roles-sync")
