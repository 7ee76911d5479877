from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import history, seed, senders

        view = ("deployments.view_deployment", "deployments.view_maintenancewindow")
        record = ("deployments.record_deployment",)
        for role in roles.ROLES:
            roles.grant(role, *view)
        roles.grant(roles.RESPONDER, *record)
        roles.grant(roles.INCIDENT_COMMANDER, *record, "deployments.rollback_deployment")
        roles.grant(
            roles.MANAGER,
            *record,
            "deployments.rollback_deployment",
            "deployments.override_checklist",
            "deployments.schedule_maintenance",
            "deployments.view_checktemplateitem",
            "deployments.change_checktemplateitem",
            "deployments.add_checktemplateitem",
            "deployments.view_deployintegration",
            "deployments.add_deployintegration",
            "deployments.change_deployintegration",
            "deployments.change_maintenancewindow",
        )

        senders.register()

        demo.register("deployments:checklist", seed.seed_checklist, order=30)
        demo.register("deployments:windows", seed.seed_windows, order=31)
        demo.register("deployments:demo", seed.seed_demo, order=60, demo_only=True)
        demo.register(
            "deployments:history", history.seed_deployment_history, order=74, demo_only=True
        )
        navigation.register("deployments", "Deployments", "deployment-list", order=20)
