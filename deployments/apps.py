from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        from incidents.services.timeline import timeline_listeners
        from incidents.status.selectors import scheduled_maintenance_providers
        from nexusops.common import demo, navigation, roles

        from . import seed, selectors, senders
        from .services import rollback

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
        if rollback.on_timeline_event not in timeline_listeners:
            timeline_listeners.append(rollback.on_timeline_event)
        if selectors.status_page_maintenance not in scheduled_maintenance_providers:
            scheduled_maintenance_providers.append(selectors.status_page_maintenance)

        demo.register("deployments:checklist", seed.seed_checklist, order=30)
        demo.register("deployments:windows", seed.seed_windows, order=31)
        demo.register("deployments:demo", seed.seed_demo, order=60, demo_only=True)
        navigation.register("deployments", "Deployments", "deployment-list", order=20)
