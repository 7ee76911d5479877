from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import history, seed, senders

        read = ("alerts.view_alertgroup", "alerts.view_alert", "alerts.view_alertrule")
        for role in roles.ROLES:
            roles.grant(role, *read)
        ack = ("alerts.acknowledge_alertgroup",)
        silence = ("alerts.silence_alertgroup",)
        manage = (
            "alerts.view_alertsource",
            "alerts.add_alertsource",
            "alerts.change_alertsource",
            "alerts.add_alertrule",
            "alerts.change_alertrule",
            "alerts.delete_alertrule",
        )
        roles.grant(roles.RESPONDER, *ack)
        roles.grant(roles.INCIDENT_COMMANDER, *ack, *silence)
        roles.grant(roles.MANAGER, *ack, *silence, *manage)

        from django.db.models.signals import post_save

        from .models import AlertSource
        from .services.sources import sources_cache_clear

        post_save.connect(sources_cache_clear, sender=AlertSource, dispatch_uid="alerts-cache")
        senders.register()
        demo.register("alerts:rules", seed.seed_rules, order=30)
        demo.register("alerts:sources", seed.seed_demo_sources, order=31, demo_only=True)
        demo.register("alerts:history", history.seed_alert_history, order=76, demo_only=True)
        navigation.register("alerts", "Alerts", "alert-group-list", order=15)
