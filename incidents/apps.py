from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import history, seed

        read = (
            "incidents.view_service",
            "incidents.view_severity",
            "incidents.view_incident",
            "incidents.view_timelineevent",
        )
        respond = (
            "incidents.declare_incident",
            "incidents.acknowledge_incident",
            "incidents.add_note",
            "incidents.view_internal",
        )
        drive = ("incidents.drive_incident",)
        manage = (
            "incidents.change_severity",
            "incidents.change_service",
            "incidents.add_service",
            "incidents.view_checklisttemplateitem",
            "incidents.change_checklisttemplateitem",
            "incidents.add_checklisttemplateitem",
        )
        for role in roles.ROLES:
            roles.grant(role, *read)
        roles.grant(roles.RESPONDER, *respond)
        roles.grant(roles.INCIDENT_COMMANDER, *respond, *drive)
        roles.grant(roles.MANAGER, *respond, *drive, *manage)

        from .paging import senders

        senders.register()

        roles.grant(
            roles.MANAGER,
            "incidents.view_profile",
            "incidents.change_profile",
            # Dead timers: seen and retried by managers in the admin.
            "engine.view_timer",
            "engine.change_timer",
        )

        demo.register("incidents:catalog", seed.seed_catalog, order=10)
        demo.register("incidents:users", seed.seed_users, order=20, demo_only=True)
        demo.register("incidents:history", history.seed_incident_history, order=70, demo_only=True)
        navigation.register("incidents", "Incidents", "incident-list", order=10)
