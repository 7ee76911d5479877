from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from nexusops.common import demo, roles

        from . import seed

        read = ("incidents.view_service", "incidents.view_severity")
        for role in roles.ROLES:
            roles.grant(role, *read)
        roles.grant(
            roles.MANAGER,
            "incidents.change_severity",
            "incidents.change_service",
            "incidents.add_service",
        )

        demo.register("incidents:catalog", seed.seed_catalog, order=10)
        demo.register("incidents:users", seed.seed_users, order=20, demo_only=True)
