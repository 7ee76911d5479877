from django.apps import AppConfig


class DrillsConfig(AppConfig):
    """Disaster-recovery drills (runbook 4.4). Above incidents and the engine; reports reads it."""

    name = "drills"
    verbose_name = "DR drills"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import seed, services

        look = ("drills.view_drill",)
        run = ("drills.run_drill",)
        for role in (roles.MANAGER, roles.INCIDENT_COMMANDER, roles.RESPONDER):
            roles.grant(role, *look)
        roles.grant(
            roles.MANAGER,
            *run,
            "drills.change_drillpolicy",
            "drills.view_drillpolicy",
            "drills.change_drilltemplatestep",
            "drills.view_drilltemplatestep",
            "drills.add_drilltemplatestep",
        )
        roles.grant(roles.INCIDENT_COMMANDER, *run)
        services.register()
        demo.register("drills:runbook", seed.seed_drills, order=40)
        demo.register("drills:history", seed.seed_drill_history, order=75, demo_only=True)
        navigation.register(
            "drills", "DR drills", "drill-list", order=55, permission="drills.view_drill"
        )
