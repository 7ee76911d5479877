from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    """The public status page: components, public updates, subscribers, the Statuspage mirror.

    It stands on ``incidents`` (an update belongs to an incident; publishing one writes the
    incident's timeline and first-update clock) and asks the apps above it for scheduled
    maintenance (``statuspage/events.py``); ``incidents`` never imports it.
    """

    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        from nexusops.common import demo, navigation

        from . import history, seed, senders

        senders.register()
        demo.register("statuspage:components", seed.seed_components, order=15)
        demo.register(
            "statuspage:history", history.seed_public_update_history, order=71, demo_only=True
        )
        navigation.register("status", "Status page", "status-page", order=70)
